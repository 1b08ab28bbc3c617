import { Code, DoraError, type Interceptor, type Logger } from "@dora/runtime";
import { DomainError, InvalidRequestError, LimitExceededError, NotAuthenticatedError, StoreUnavailableError } from "../domain/errors.js";

/** Message sent for every store failure: the details stay in the server's log. */
export const STORE_UNAVAILABLE_MESSAGE = "service temporarily unavailable";

/**
 * The one place domain errors become dora errors (SPEC §6), for every method
 * and every interceptor after it: BadRequest, Unauthenticated, Unavailable
 * ("rate limit", "too many failed logins", or a store failure without
 * details; the failure is logged). Anything else passes unchanged, so a
 * `DoraError` keeps its code and the runtime turns any other error into
 * Unknown with a generic message.
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (error instanceof DomainError) throw toDoraError(error, logger, req.method);
      throw error;
    }
  };
}

function toDoraError(error: DomainError, logger: Logger, method: string): DoraError {
  if (error instanceof InvalidRequestError) return new DoraError(Code.BadRequest, error.message);
  if (error instanceof NotAuthenticatedError) return new DoraError(Code.Unauthenticated, error.message);
  if (error instanceof LimitExceededError) return new DoraError(Code.Unavailable, error.message);
  if (!(error instanceof StoreUnavailableError)) {
    // A new kind of domain error that has no mapping yet: fail as Internal, with the details only in the log.
    logger.error("unmapped domain error", { method, error: `${error.name}: ${error.message}` });
    return new DoraError(Code.Internal, "internal error");
  }
  logger.warn("store unavailable", { method, reason: error.message, cause: describeCause(error.cause) });
  return new DoraError(Code.Unavailable, STORE_UNAVAILABLE_MESSAGE);
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
