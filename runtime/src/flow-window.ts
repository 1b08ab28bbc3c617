/**
 * Per-stream flow control (docs/protocol.md "Streaming"), in the spirit of
 * HTTP/2's windows (RFC 9113 §6.9): each side of a stream may send message
 * bytes only while it holds credit, and the receiver returns credit as its
 * application consumes messages, so a fast sender cannot grow a slow
 * receiver's memory beyond one window and one frame. Internal module.
 */
import { DEFAULT_STREAM_WINDOW_BYTES, MAX_STREAM_WINDOW_BYTES } from "./protocol/stream-frame.js";

/**
 * The credit of the sending side. A MESSAGE frame may be sent while the
 * credit is positive; its bytes are subtracted, so one message may overdraw
 * it (a message larger than the window still goes, alone).
 */
export class SendWindow {
  private credit = DEFAULT_STREAM_WINDOW_BYTES;
  private waiter: (() => void) | undefined;

  /** True when a message may be sent now. */
  get open(): boolean {
    return this.credit > 0;
  }

  /** Spends `bytes` of credit on a MESSAGE frame. */
  spend(bytes: number): void {
    this.credit -= bytes;
  }

  /**
   * Adds credit returned by the receiver. Returns false when the increment is
   * not within 1..2^31−1 or would take the credit past 2^31−1: a protocol
   * violation.
   */
  grant(increment: number): boolean {
    if (!(increment > 0) || this.credit + increment > MAX_STREAM_WINDOW_BYTES) return false;
    this.credit += increment;
    if (this.credit > 0) this.wake();
    return true;
  }

  /** Resolves once credit is available, or when {@link wake} is called (the stream ended). */
  wait(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Releases a pending {@link wait}. */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

/**
 * The credit the peer holds to send to us, and the bytes consumed since
 * credit was last returned. Credit goes back in batches of half a window.
 */
export class ReceiveWindow {
  /** What the peer may still send: starts at the protocol's default window. */
  private credit = DEFAULT_STREAM_WINDOW_BYTES;
  private consumed = 0;
  private readonly batch: number;

  /** @param size this side's window in bytes (at least the default; a larger one is announced by {@link announce}). */
  constructor(private readonly size: number) {
    this.batch = size >>> 1;
  }

  /**
   * The increment that raises the peer's credit from the default window to
   * this side's window, or 0 when they are equal; sent once, at the start.
   */
  announce(): number {
    const raise = this.size - DEFAULT_STREAM_WINDOW_BYTES;
    this.credit += raise;
    return raise;
  }

  /** A MESSAGE frame of `bytes` arrived. Returns false when the peer had no credit: a protocol violation. */
  receive(bytes: number): boolean {
    if (this.credit <= 0) return false;
    this.credit -= bytes;
    return true;
  }

  /** The application consumed a message of `bytes`; returns the credit to send back now (0: not yet). */
  consume(bytes: number): number {
    this.consumed += bytes;
    if (this.consumed < this.batch || this.consumed === 0) return 0;
    const increment = Math.min(this.consumed, MAX_STREAM_WINDOW_BYTES - Math.max(this.credit, 0));
    this.consumed -= increment;
    this.credit += increment;
    return increment;
  }
}
