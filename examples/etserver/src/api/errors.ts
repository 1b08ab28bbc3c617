import { Code, DoraError, type Interceptor, type Logger } from "@dora/runtime";
import {
  CallOutOfTimeError,
  DomainError,
  InvalidRequestError,
  LimitExceededError,
  NotAuthenticatedError,
  ShuttingDownError,
  StoreUnavailableError,
  WatchLimitError,
} from "../domain/errors.js";

/** Message sent for every store failure: the details stay in the server's log. */
export const STORE_UNAVAILABLE_MESSAGE = "service temporarily unavailable";

/**
 * Maps every domain error below it, the handler's included, to a dora error
 * through {@link toDoraError}; anything else passes unchanged. For a stream,
 * that includes the errors its responses fail with mid-stream (a watch that
 * falls behind, a lost feed, shutdown).
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    let res;
    try {
      res = await next(req);
    } catch (error) {
      throw toDoraError(error, logger, req.method);
    }
    if (!res.stream) return res;
    return { ...res, message: mappingErrors(res.message, (error) => toDoraError(error, logger, req.method)) };
  };
}

/** `source`, with the error it fails with replaced by `map(error)`; closing it closes `source` (`yield*`). */
async function* mappingErrors<T>(source: AsyncIterable<T>, map: (error: unknown) => unknown): AsyncIterable<T> {
  try {
    yield* source;
  } catch (error) {
    throw map(error);
  }
}

/**
 * The one mapping of domain errors to the dora status SPEC §6 promises:
 * BadRequest, Unauthenticated, Unavailable ("rate limit", "too many failed
 * logins", a shutdown, or a store failure without details; the failure is
 * logged at warn, or at debug when the caller's own deadline cut the store
 * call short), ResourceExhausted (a watch bound). Anything that is not a
 * {@link DomainError} is returned unchanged, so a `DoraError` keeps its code
 * and the runtime turns any other error into Unknown with a generic message.
 */
export function toDoraError(error: unknown, logger: Logger, method: string): unknown {
  if (!(error instanceof DomainError)) return error;
  if (error instanceof InvalidRequestError) return new DoraError(Code.BadRequest, error.message);
  if (error instanceof NotAuthenticatedError) return new DoraError(Code.Unauthenticated, error.message);
  if (error instanceof LimitExceededError) return new DoraError(Code.Unavailable, error.message);
  if (error instanceof WatchLimitError) return new DoraError(Code.ResourceExhausted, error.message);
  if (error instanceof ShuttingDownError) return new DoraError(Code.Unavailable, error.message);
  if (error instanceof CallOutOfTimeError) {
    logger.debug("store call out of the caller's time", { method, reason: error.message });
    return new DoraError(Code.Unavailable, STORE_UNAVAILABLE_MESSAGE);
  }
  if (error instanceof StoreUnavailableError) {
    logger.warn("store unavailable", { method, reason: error.message, cause: describeCause(error.cause) });
    return new DoraError(Code.Unavailable, STORE_UNAVAILABLE_MESSAGE);
  }
  // A kind of domain error without a mapping: Internal, with the details only in the log.
  logger.error("unmapped domain error", { method, error: `${error.name}: ${error.message}` });
  return new DoraError(Code.Internal, "internal error");
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
