import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";
import type { MemoryValueFeed } from "./memory-value-feed.js";

/** Values in process memory, namespaced per user; lost when the process exits. Each write is announced on `feed`. */
export class MemoryValueRepository implements ValueRepository {
  private readonly values = new Map<string, string>();

  constructor(private readonly feed: MemoryValueFeed) {}

  /** @inheritdoc */
  get(username: string, key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(ownedKey(username, key)));
  }

  /** @inheritdoc */
  set(username: string, key: string, value: string): Promise<void> {
    this.values.set(ownedKey(username, key), value);
    this.feed.publish(username, key, value);
    return Promise.resolve();
  }
}
