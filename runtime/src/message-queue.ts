/**
 * The messages a stream has received and its application has not read yet,
 * read as an `AsyncIterator` (docs/runtime-api-contract.md "Streaming").
 * Reading a message returns its flow-control credit; `return()` (a `break`
 * out of `for await`) cancels the stream and settles a pending `next()`.
 * Internal module.
 */

/** Hears what the reader does. */
export interface MessageQueueOwner {
  /** A message of `bytes` was read. */
  consumed(bytes: number): void;
  /** The reader stopped before the end (`return()`, e.g. `break`). */
  abandoned(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A queue of received messages, bounded by the stream's flow-control window. */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private ended = false;
  private error: unknown = undefined;
  private failed = false;
  private closed = false;
  /** Readers waiting for a message, oldest first (a reader may call `next()` again before the last one settled). */
  private waiting: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];

  constructor(private readonly owner: MessageQueueOwner) {}

  /** Messages received and not read yet. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** True once no more messages will be pushed. */
  get finished(): boolean {
    return this.ended || this.failed;
  }

  /** A message arrived. Returns false when nobody will read it (the reader stopped, or the queue has ended). */
  push(item: T, bytes: number): boolean {
    if (this.finished || this.closed) return false;
    const w = this.waiting.shift();
    if (w !== undefined) {
      this.owner.consumed(bytes);
      w.resolve({ done: false, value: item });
      return true;
    }
    this.items.push(item);
    this.sizes.push(bytes);
    return true;
  }

  /** The sender half-closed: after the queued messages, reading ends. */
  end(): void {
    if (this.finished) return;
    this.ended = true;
    // Readers wait only while nothing is queued.
    for (const w of this.waiting.splice(0)) w.resolve(DONE);
  }

  /**
   * The stream failed: reading rejects with `error` once the queued messages
   * are read (an error that follows N messages arrives after them), or at
   * once when `drop` (the stream was cancelled: what is queued is discarded).
   */
  fail(error: unknown, drop = false): void {
    if (this.finished) return;
    this.failed = true;
    this.error = error;
    if (drop) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
    }
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.closed) return Promise.resolve(DONE);
    if (this.head < this.items.length) {
      const item = this.items[this.head]!;
      const bytes = this.sizes[this.head]!;
      this.head++;
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.sizes.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.sizes = this.sizes.slice(this.head);
        this.head = 0;
      }
      this.owner.consumed(bytes);
      return Promise.resolve({ done: false, value: item });
    }
    if (this.failed) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Stops reading: the stream is cancelled unless it had already ended; a pending `next()` resolves done. */
  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.items = [];
      this.sizes = [];
      this.head = 0;
      for (const w of this.waiting.splice(0)) w.resolve(DONE);
      if (!this.finished) this.owner.abandoned();
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Stops an iterable a stream no longer reads; its errors are of no interest any more. */
export function closeQuietly(it: AsyncIterator<unknown>): void {
  try {
    void it.return?.()?.then(undefined, () => {});
  } catch {
    // an iterator whose return() throws has nothing left to release
  }
}
