import type { ValueRepository } from "../../domain/kvstore.js";
import type { MemoryValueFeed } from "./memory-value-feed.js";

/**
 * Values in process memory, one map of keys per user (so one user can never
 * reach another's values); lost when the process exits. A read looks the key
 * up as it arrived, without building a namespaced copy of it. Each write is
 * announced on `feed`.
 */
export class MemoryValueRepository implements ValueRepository {
  private readonly users = new Map<string, Map<string, string>>();

  constructor(private readonly feed: MemoryValueFeed) {}

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
    this.feed.publish(username, key, value);
  }
}
