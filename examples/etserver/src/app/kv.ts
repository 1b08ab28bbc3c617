import { validateKey, validateValue, type KvLimits, type ValueRepository } from "../domain/kvstore.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Writes a value under one of the user's keys (SPEC §6). */
export class WriteUseCase {
  constructor(
    private readonly values: ValueRepository,
    private readonly limits: KvLimits,
  ) {}

  /** @throws InvalidRequestError for a bad key or value; StoreUnavailableError. */
  async execute(username: string, key: string, value: string, scope: CallScope): Promise<void> {
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
  ) {}

  /** The value, or undefined when the key was never written. @throws InvalidRequestError, StoreUnavailableError */
  async execute(username: string, key: string, scope: CallScope): Promise<string | undefined> {
    validateKey(key, this.limits);
    return storeCall(scope, "value store", () => this.values.get(username, key));
  }
}
