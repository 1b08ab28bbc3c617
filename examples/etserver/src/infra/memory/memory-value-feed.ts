import type { FeedSubscription, ValueFeed, WatchListener } from "../../domain/watch.js";

/**
 * The in-process hub of the memory store: user → key → that key's listeners.
 * Writes reach them synchronously, in order; a write to a key nobody watches
 * costs two map lookups and allocates nothing.
 */
export class MemoryValueFeed implements ValueFeed {
  private readonly users = new Map<string, Map<string, Set<WatchListener>>>();
  private keys = 0;

  /** Keys with at least one listener. */
  get listenedKeyCount(): number {
    return this.keys;
  }

  /** Hands `value`, just written to `key` of `username`, to that key's listeners. */
  publish(username: string, key: string, value: string): void {
    const listeners = this.users.get(username)?.get(key);
    if (listeners === undefined) return;
    // A listener may unsubscribe while it is called (a watcher that fell behind); a Set allows that during iteration.
    for (const listener of listeners) listener.onValue(value);
  }

  /** @inheritdoc */
  subscribe(username: string, key: string, listener: WatchListener): Promise<FeedSubscription> {
    let keys = this.users.get(username);
    if (keys === undefined) this.users.set(username, (keys = new Map()));
    let listeners = keys.get(key);
    if (listeners === undefined) {
      keys.set(key, (listeners = new Set()));
      this.keys++;
    }
    listeners.add(listener);
    const userKeys = keys;
    const set = listeners;
    return Promise.resolve({
      unsubscribe: () => {
        if (!set.delete(listener) || set.size > 0 || userKeys.get(key) !== set) return;
        userKeys.delete(key);
        this.keys--;
        if (userKeys.size === 0 && this.users.get(username) === userKeys) this.users.delete(username);
      },
    });
  }
}
