import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";

/** Values in process memory, namespaced per user; lost when the process exits. */
export class MemoryValueRepository implements ValueRepository {
  private readonly values = new Map<string, string>();

  /** @inheritdoc */
  get(username: string, key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(ownedKey(username, key)));
  }

  /** @inheritdoc */
  set(username: string, key: string, value: string): Promise<void> {
    this.values.set(ownedKey(username, key), value);
    return Promise.resolve();
  }
}
