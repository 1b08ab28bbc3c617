/**
 * Domain errors: what went wrong in etserver's terms. They share one base
 * class, {@link DomainError}; the api layer maps them to dora status codes in
 * one place (api/errors.ts). Nothing here knows about the wire.
 */

/** Base of every error etserver's domain and use cases raise on purpose. */
export abstract class DomainError extends Error {}

/** A request that breaks a domain rule (key length, value size, missing metadata). Maps to BadRequest. */
export class InvalidRequestError extends DomainError {
  override name = "InvalidRequestError";
}

/** Missing, expired or wrong session token. Maps to Unauthenticated. */
export class NotAuthenticatedError extends DomainError {
  override name = "NotAuthenticatedError";
}

/** A limit was hit: the rate limit or the failed-login limit. Maps to Unavailable with this message. */
export class LimitExceededError extends DomainError {
  override name = "LimitExceededError";
}

/**
 * A store (MySQL, Redis) failed or was too slow for the call's deadline. Maps
 * to Unavailable; the cause is logged, never sent to the client.
 */
export class StoreUnavailableError extends DomainError {
  override name = "StoreUnavailableError";
}

/**
 * A store call cut short by the caller's own time: no time left before its
 * deadline, a deadline that left the store less than a fair chance to answer,
 * or a call abandoned by its client. Answered Unavailable like any store
 * failure, but it says nothing about the store, and any client can cause it
 * (a 1 ms `dora-timeout`), so it is logged at debug, not warn.
 */
export class CallOutOfTimeError extends StoreUnavailableError {
  override name = "CallOutOfTimeError";
}

/** A watch bound was hit: too many watches, or a watcher that cannot keep up. Maps to ResourceExhausted with this message. */
export class WatchLimitError extends DomainError {
  override name = "WatchLimitError";
}

/** The server is shutting down: the call cannot start or continue. Maps to Unavailable with this message. */
export class ShuttingDownError extends DomainError {
  override name = "ShuttingDownError";
}
