/**
 * The seam between a connection's call logic (server-connection.ts,
 * client-connection.ts) and what carries its frames: a socket
 * (nap-connection.ts) or an in-process pipe (in-process-channel.ts).
 * Internal module.
 */

/** Carries the frames of one connection. */
export interface FrameChannel {
  /** Queues one complete frame; a no-op once closed. */
  write(frame: Buffer): void;
  /** Closes after the queued frames are written. */
  end(): void;
  /** Closes at once; `error` is reported to the listener as the reason. */
  destroy(error?: Error): void;
  /** Keeps the process alive while the channel is open (sockets are `ref()`-ed). */
  ref(): void;
  /** Lets the process exit while the channel is open. */
  unref(): void;
  /** True once closed. */
  readonly closed: boolean;
}

/** Hears a channel's events. */
export interface FrameListener {
  /** The channel is established and frames can flow (client side; a server's channels are open when made). */
  onOpen(): void;
  /**
   * A frame arrived. PINGs are answered by the channel before this is called;
   * every frame is reported, since any frame read proves the peer alive and
   * speaking dora. `payload` is only valid during the call unless kept.
   */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void;
  /** The channel closed; `error` says why when it was not a clean close. */
  onClose(error: Error | undefined): void;
}
