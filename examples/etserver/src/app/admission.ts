import type { Admission, AdmissionRefusal, SizedAdmission } from "../domain/admission.js";
import { LimitExceededError, NotAuthenticatedError } from "../domain/errors.js";
import type { QuotaRepository } from "../domain/quota.js";
import { bucketParams } from "../domain/ratelimiter.js";
import { INVALID_TOKEN_MESSAGE, type AuthenticateUseCase } from "./authenticate.js";
import type { CallScope } from "./call-scope.js";
import { RATE_LIMIT_MESSAGE, type RateLimitUseCase } from "./rate-limit.js";

/**
 * Runs the admission of a call whose checks were deferred to its operation
 * (domain/admission.ts): either one after another, as the `auth` and `limit`
 * interceptors do, or, through a store that checks an admission with the
 * operation, in one step. Both give the same outcomes (SPEC §6).
 */
export class AdmissionUseCase {
  constructor(
    private readonly authenticate: AuthenticateUseCase,
    private readonly rateLimit: RateLimitUseCase,
    private readonly quotas: QuotaRepository,
  ) {}

  /**
   * The checks one after another, each its own store call: the session, then
   * (only if it passed) one token of the bucket.
   * @returns the username, now authenticated and charged.
   * @throws NotAuthenticatedError, LimitExceededError, StoreUnavailableError.
   */
  async admit(admission: Admission, scope: CallScope): Promise<string> {
    await this.authenticate.execute(admission.username, admission.token, scope);
    await this.rateLimit.execute(admission.username, admission.kind, scope);
    return admission.username;
  }

  /**
   * The admission with its bucket's shape when the user's quota is known
   * without asking a store (formula, fixed, cached), so that a store can check
   * it in one step; else undefined, and the caller uses {@link admit}, which
   * looks the quota up only after the session passed (an unauthenticated
   * request never costs a quota query).
   */
  sized(admission: Admission): SizedAdmission | undefined {
    const quota = this.quotas.knownQuotaOf(admission.username);
    if (quota === undefined) return undefined;
    const bucket = bucketParams(admission.kind === "read" ? quota.read : quota.write);
    return { username: admission.username, token: admission.token, kind: admission.kind, bucket };
  }
}

/** The error of a refused admission, the same as the interceptors' for the same failure. */
export function refusalError(refusal: AdmissionRefusal): Error {
  return refusal === "unauthenticated" ? new NotAuthenticatedError(INVALID_TOKEN_MESSAGE) : new LimitExceededError(RATE_LIMIT_MESSAGE);
}

/**
 * Whom a read or write acts for: the username of a caller that already
 * passed `auth` and `limit`, or the {@link Admission} of one whose checks were
 * deferred to the operation. Only {@link AdmissionUseCase} (or a store
 * checking the admission in the same step) turns the second into the first.
 */
export type Actor = string | Admission;
