/**
 * Watches: a logged-in user follows one of their keys and receives each value
 * written to it afterwards, by any etserver instance that shares the store.
 */

/** Bounds that keep watches cheap (config `watch.*`). */
export interface WatchLimits {
  /** Open watches of one user in one process. Default 16. */
  readonly maxPerUser: number;
  /** Open watches on one client connection. Default 64. */
  readonly maxPerConnection: number;
  /** Open watches in one process. Default 10,000. */
  readonly maxPerProcess: number;
  /**
   * Values written but not yet taken by one watcher. One more and the watch
   * ends with ResourceExhausted (the watcher cannot keep up). Default 64.
   */
  readonly maxQueuedMessages: number;
}

/** The defaults of {@link WatchLimits}. */
export const DEFAULT_WATCH_LIMITS: WatchLimits = { maxPerUser: 16, maxPerConnection: 64, maxPerProcess: 10_000, maxQueuedMessages: 64 };

/** Receives what happens to one watched key, in write order. */
export interface WatchListener {
  /** A value was written to the key. */
  onValue(value: string): void;
  /** The feed can no longer deliver (store connection lost, shutdown): no more values will come. */
  onEnd(error: Error): void;
}

/** One listener's registration with a {@link ValueFeed}. */
export interface FeedSubscription {
  /** Stops delivery to the listener; calling it again does nothing. */
  unsubscribe(): void;
}

/**
 * Announces written values to listeners, per (user, key). Implementations:
 * in process (memory store) and Redis pub/sub (shared by every instance).
 */
export interface ValueFeed {
  /**
   * Registers `listener` for the values written to `key` of `username`. Once
   * the returned promise resolves, every later write reaches the listener.
   * @throws Error when the feed cannot subscribe (store down).
   */
  subscribe(username: string, key: string, listener: WatchListener): Promise<FeedSubscription>;
}
