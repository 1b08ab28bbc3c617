import { ownedKey } from "../../domain/kvstore.js";
import type { FeedSubscription, ValueFeed, WatchListener } from "../../domain/watch.js";

/** The in-process hub of the memory store: owned key → its listeners. Writes reach them synchronously, in order. */
export class MemoryValueFeed implements ValueFeed {
  private readonly listeners = new Map<string, Set<WatchListener>>();

  /** Keys with at least one listener. */
  get listenedKeyCount(): number {
    return this.listeners.size;
  }

  /** Hands `value`, just written to `key` of `username`, to that key's listeners. */
  publish(username: string, key: string, value: string): void {
    const listeners = this.listeners.get(ownedKey(username, key));
    if (listeners === undefined) return;
    // A listener may unsubscribe while it is called (a watcher that fell behind); a Set allows that during iteration.
    for (const listener of listeners) listener.onValue(value);
  }

  /** @inheritdoc */
  subscribe(username: string, key: string, listener: WatchListener): Promise<FeedSubscription> {
    const owned = ownedKey(username, key);
    let listeners = this.listeners.get(owned);
    if (listeners === undefined) this.listeners.set(owned, (listeners = new Set()));
    listeners.add(listener);
    const set = listeners;
    return Promise.resolve({
      unsubscribe: () => {
        if (set.delete(listener) && set.size === 0 && this.listeners.get(owned) === set) this.listeners.delete(owned);
      },
    });
  }
}
