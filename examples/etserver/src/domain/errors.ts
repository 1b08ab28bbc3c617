/**
 * Domain errors: what went wrong in etserver's terms. The api layer maps them
 * to dora status codes (api/errors.ts); nothing here knows about the wire.
 */

/** A request that breaks a domain rule (key length, value size, missing metadata). Maps to BadRequest. */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
}

/** Missing, expired or wrong session token. Maps to Unauthenticated. */
export class NotAuthenticatedError extends Error {
  override name = "NotAuthenticatedError";
}

/** A limit was hit: the rate limit or the failed-login limit. Maps to Unavailable with this message. */
export class LimitExceededError extends Error {
  override name = "LimitExceededError";
}

/**
 * A store (MySQL, Redis) failed or was too slow for the call's deadline. Maps
 * to Unavailable; the cause is logged, never sent to the client.
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** A watch bound was hit: too many watches, or a watcher that cannot keep up. Maps to ResourceExhausted with this message. */
export class WatchLimitError extends Error {
  override name = "WatchLimitError";
}

/** The server is shutting down: the call cannot start or continue. Maps to Unavailable with this message. */
export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
}
