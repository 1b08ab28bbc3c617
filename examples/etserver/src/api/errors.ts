import { Code, DoraError, type Logger } from "@dora/runtime";
import { InvalidRequestError, LimitExceededError, NotAuthenticatedError, ShuttingDownError, StoreUnavailableError, WatchLimitError } from "../domain/errors.js";

/** Message sent for every store failure: the details stay in the server's log. */
export const STORE_UNAVAILABLE_MESSAGE = "service temporarily unavailable";

/**
 * Maps a domain error to the dora status SPEC §6 promises: BadRequest,
 * Unauthenticated, Unavailable ("rate limit", "too many failed logins", a
 * shutdown, or a store failure without details), ResourceExhausted (a watch
 * bound). Anything else is returned unchanged, so the
 * runtime turns it into Unknown with a generic message.
 */
export function toDoraError(error: unknown, logger: Logger, method: string): unknown {
  if (error instanceof DoraError) return error;
  if (error instanceof InvalidRequestError) return new DoraError(Code.BadRequest, error.message);
  if (error instanceof NotAuthenticatedError) return new DoraError(Code.Unauthenticated, error.message);
  if (error instanceof LimitExceededError) return new DoraError(Code.Unavailable, error.message);
  if (error instanceof WatchLimitError) return new DoraError(Code.ResourceExhausted, error.message);
  if (error instanceof ShuttingDownError) return new DoraError(Code.Unavailable, error.message);
  if (error instanceof StoreUnavailableError) {
    logger.warn("store unavailable", { method, reason: error.message, cause: describeCause(error.cause) });
    return new DoraError(Code.Unavailable, STORE_UNAVAILABLE_MESSAGE);
  }
  return error;
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
