import type { Admission, Admitted, AdmittingValueStore, SizedAdmission } from "../domain/admission.js";
import { keyProblem, validateKey, validateValue, valueProblem, type KvLimits, type ValueRepository } from "../domain/kvstore.js";
import { refusalError, type Actor, type AdmissionUseCase } from "./admission.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** What the operation name of a combined store call is, in errors and logs. */
const ADMITTED_WHAT = "session, rate limit and value store";

/**
 * How read and write run the admission of a caller whose checks were
 * deferred to the operation: `admissions` runs them (one after another),
 * `store`, when there is one, checks them with the operation in one step.
 */
export interface DeferredAdmission {
  readonly admissions: AdmissionUseCase;
  readonly store: AdmittingValueStore | undefined;
}

/** Writes a value under one of the user's keys (SPEC §6). */
export class WriteUseCase {
  constructor(
    private readonly values: ValueRepository,
    private readonly limits: KvLimits,
    private readonly deferred: DeferredAdmission,
  ) {}

  /**
   * Writes for `actor`. A deferred admission with a valid key and value and
   * a quota known at once is checked with the write in one store call;
   * otherwise its checks run first, one after another, and then the key and
   * value rules (so a bad key after a good session still spends a token,
   * SPEC §6: `limit` comes before the handler).
   * @throws InvalidRequestError for a bad key or value; NotAuthenticatedError; LimitExceededError; StoreUnavailableError.
   */
  async execute(actor: Actor, key: string, value: string, scope: CallScope): Promise<void> {
    let username: string;
    if (typeof actor === "string") username = actor;
    else {
      const step = oneStep(this.deferred, actor, keyProblem(key, this.limits) === undefined && valueProblem(value, this.limits) === undefined);
      if (step !== undefined) {
        return admittedValue(await storeCall(scope, ADMITTED_WHAT, () => step.store.setIfAdmitted(step.admission, key, value), step.store.answersWithinMs));
      }
      username = await this.deferred.admissions.admit(actor, scope);
    }
    validateKey(key, this.limits);
    validateValue(value, this.limits);
    await storeCall(scope, "value store", () => this.values.set(username, key, value));
  }
}

/** Reads a value from one of the user's keys (SPEC §6). */
export class ReadUseCase {
  constructor(
    private readonly values: ValueRepository,
    private readonly limits: KvLimits,
    private readonly deferred: DeferredAdmission,
  ) {}

  /**
   * The value for `actor`, or undefined when the key was never written. A
   * deferred admission is handled as by {@link WriteUseCase.execute}.
   * @throws InvalidRequestError, NotAuthenticatedError, LimitExceededError, StoreUnavailableError
   */
  async execute(actor: Actor, key: string, scope: CallScope): Promise<string | undefined> {
    let username: string;
    if (typeof actor === "string") username = actor;
    else {
      const step = oneStep(this.deferred, actor, keyProblem(key, this.limits) === undefined);
      if (step !== undefined) {
        return admittedValue(await storeCall(scope, ADMITTED_WHAT, () => step.store.getIfAdmitted(step.admission, key), step.store.answersWithinMs));
      }
      username = await this.deferred.admissions.admit(actor, scope);
    }
    validateKey(key, this.limits);
    return storeCall(scope, "value store", () => this.values.get(username, key));
  }
}

/**
 * The store and the sized admission with which a deferred admission is checked
 * together with its operation in one store call: only when there is such a
 * store, the request passes the key and value rules (`valid`) and the user's
 * quota is known at once; else undefined, and the checks run one after another.
 */
function oneStep(deferred: DeferredAdmission, actor: Admission, valid: boolean): { store: AdmittingValueStore; admission: SizedAdmission } | undefined {
  const store = deferred.store;
  if (store === undefined || !valid) return undefined;
  const admission = deferred.admissions.sized(actor);
  return admission === undefined ? undefined : { store, admission };
}

/** The value of an admitted operation; a refused admission as its error (Unauthenticated or rate limit). */
function admittedValue<T>(outcome: Admitted<T>): T {
  if (!outcome.admitted) throw refusalError(outcome.refusal);
  return outcome.value;
}
