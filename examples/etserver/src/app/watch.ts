import { ShuttingDownError, StoreUnavailableError, WatchLimitError } from "../domain/errors.js";
import { validateKey, type KvLimits } from "../domain/kvstore.js";
import type { FeedSubscription, ValueFeed, WatchLimits, WatchListener } from "../domain/watch.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Message of the error that ends every open watch when the server shuts down. */
export const SHUTTING_DOWN_MESSAGE = "server shutting down";

/**
 * One open watch: the values written to the watched key, in write order, as
 * an async iterable. It ends (the iteration completes) when the call is
 * abandoned or {@link ValueWatch.close} is called, and fails with
 * WatchLimitError when the watcher falls more than `maxQueuedMessages`
 * behind, StoreUnavailableError when the feed is lost, or ShuttingDownError.
 * Values queued before a failure are delivered first.
 */
export interface ValueWatch extends AsyncIterable<string> {
  /** Ends the watch and releases its place; calling it again does nothing. */
  close(): void;
}

/** Who opens a watch, and on which connection (for the per-connection bound). */
export interface Watcher {
  readonly username: string;
  /** Identifies the client connection, e.g. `"127.0.0.1:53124"`. */
  readonly connection: string;
}

/**
 * Opens watches (`WatchSecureMessage`) within the bounds of
 * {@link WatchLimits}: per user, per connection and per process, each
 * refused with WatchLimitError; and a bounded queue per watch.
 */
export class WatchUseCase {
  private readonly perUser = new Map<string, number>();
  private readonly perConnection = new Map<string, number>();
  private readonly open = new Set<QueuedWatch>();
  private closed = false;

  constructor(
    private readonly feed: ValueFeed,
    private readonly kvLimits: KvLimits,
    private readonly limits: WatchLimits,
  ) {}

  /** Watches open in this process. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Opens a watch of `key` for `watcher`. Once it resolves, every value
   * written to the key reaches the watch.
   * @throws InvalidRequestError for a bad key; WatchLimitError beyond a bound;
   *   ShuttingDownError while closing; StoreUnavailableError when the feed
   *   cannot subscribe within the call's deadline.
   */
  async execute(watcher: Watcher, key: string, scope: CallScope): Promise<ValueWatch> {
    if (this.closed) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
    validateKey(key, this.kvLimits);
    this.reserve(watcher);
    const watch = new QueuedWatch(this.limits.maxQueuedMessages, scope.signal, () => this.release(watch, watcher));
    this.open.add(watch);
    const subscribing = this.feed.subscribe(watcher.username, key, watch);
    subscribing.then(
      (subscription) => watch.attach(subscription),
      () => undefined,
    );
    try {
      await storeCall(scope, "watch subscription", () => subscribing);
    } catch (error) {
      watch.close();
      throw error;
    }
    return watch;
  }

  /** Ends every open watch with ShuttingDownError and refuses new ones (shutdown). */
  close(): void {
    this.closed = true;
    const error = new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
    for (const watch of [...this.open]) watch.onEnd(error);
  }

  private reserve(watcher: Watcher): void {
    const { maxPerUser, maxPerConnection, maxPerProcess } = this.limits;
    const user = this.perUser.get(watcher.username) ?? 0;
    const connection = this.perConnection.get(watcher.connection) ?? 0;
    if (this.open.size >= maxPerProcess) throw new WatchLimitError(`too many watches on this server (at most ${maxPerProcess})`);
    if (user >= maxPerUser) throw new WatchLimitError(`too many watches of this user (at most ${maxPerUser})`);
    if (connection >= maxPerConnection) throw new WatchLimitError(`too many watches on this connection (at most ${maxPerConnection})`);
    this.perUser.set(watcher.username, user + 1);
    this.perConnection.set(watcher.connection, connection + 1);
  }

  private release(watch: QueuedWatch, watcher: Watcher): void {
    this.open.delete(watch);
    decrement(this.perUser, watcher.username);
    decrement(this.perConnection, watcher.connection);
  }
}

/** Counts drop out of the map at zero, so the maps hold only keys with open watches. */
function decrement(counts: Map<string, number>, key: string): void {
  const count = counts.get(key) ?? 0;
  if (count <= 1) counts.delete(key);
  else counts.set(key, count - 1);
}

/**
 * A watch fed by a {@link ValueFeed}: a FIFO of at most `maxQueued` values
 * between the feed (push) and the consumer's `for await` (pull). Internal.
 */
class QueuedWatch implements ValueWatch, WatchListener, AsyncIterator<string> {
  private readonly queue: string[] = [];
  private waiting: { resolve(result: IteratorResult<string>): void; reject(error: unknown): void } | undefined;
  /** Set once: "done" for a normal end, else the error still to be thrown (undefined after it was). */
  private end: "done" | Error | undefined;
  private ended = false;
  private subscription: FeedSubscription | undefined;
  private readonly onAbort = () => this.finish("done");

  constructor(
    private readonly maxQueued: number,
    private readonly signal: AbortSignal,
    private readonly onRelease: () => void,
  ) {
    // An already aborted call never gets here past storeCall, which refuses it and closes the watch.
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Keeps the feed's registration, or drops it at once when the watch already ended. */
  attach(subscription: FeedSubscription): void {
    if (this.ended) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  onValue(value: string): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve({ value, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.finish(new WatchLimitError(`watcher too slow: more than ${this.maxQueued} values waiting`));
      return;
    }
    this.queue.push(value);
  }

  onEnd(error: Error): void {
    const known = error instanceof ShuttingDownError || error instanceof StoreUnavailableError || error instanceof WatchLimitError;
    this.finish(known ? error : new StoreUnavailableError("watch feed lost", { cause: error }));
  }

  close(): void {
    this.finish("done");
  }

  next(): Promise<IteratorResult<string>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.ended) {
      const end = this.end;
      if (end instanceof Error) {
        this.end = "done";
        return Promise.reject(end);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiting !== undefined) return Promise.reject(new Error("a watch has one reader"));
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<string>> {
    this.finish("done");
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return this;
  }

  private finish(end: "done" | Error): void {
    if (this.ended) return;
    this.ended = true;
    this.end = end;
    this.signal.removeEventListener("abort", this.onAbort);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.onRelease();
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    if (end instanceof Error) {
      this.end = "done";
      waiting.reject(end);
    } else {
      waiting.resolve({ value: undefined, done: true });
    }
  }
}
