import type { ValueRepository } from "../../domain/kvstore.js";

/**
 * Values in process memory, one map of keys per user (so one user can never
 * reach another's values); lost when the process exits. A read looks the key
 * up as it arrived, without building a namespaced copy of it.
 */
export class MemoryValueRepository implements ValueRepository {
  private readonly users = new Map<string, Map<string, string>>();

  /** @inheritdoc */
  get(username: string, key: string): string | undefined {
    return this.users.get(username)?.get(key);
  }

  /** @inheritdoc */
  set(username: string, key: string, value: string): void {
    let values = this.users.get(username);
    if (values === undefined) {
      values = new Map();
      this.users.set(username, values);
    }
    values.set(key, value);
  }
}
