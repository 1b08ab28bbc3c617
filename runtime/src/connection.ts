/**
 * A nap transport connection over a TCP or TLS socket: framing, PING/ACK,
 * keepalive and write batching (SPEC §3.1). Used by both server and client.
 * Internal module.
 */
import type { Socket } from "node:net";
import { FLAG_ACK, FRAME_DATA, FRAME_PING, FrameDecoder, pingFrame } from "./frame.js";
import type { TransportOptions } from "./options.js";

/** Receives the events of a {@link NapConnection}. */
export interface ConnectionHandler {
  /** A DATA frame arrived. `payload` is only valid during the call unless kept. */
  onData(streamId: number, payload: Buffer): void;
  /** The connection closed; `error` says why when it was not a clean close. */
  onClose(error: Error | undefined): void;
}

/** Why a connection was closed by keepalive. */
export class KeepaliveTimeoutError extends Error {
  override name = "KeepaliveTimeoutError";
}

export class NapConnection {
  /** True once the socket has closed. */
  closed = false;
  private readonly decoder: FrameDecoder;
  private corked = false;
  private readSinceTick = false;
  private pinged = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private error: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: TransportOptions,
    private readonly handler: ConnectionHandler,
  ) {
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(options.maxFrameBytes, this.onFrame);
    socket.on("data", this.onSocketData);
    socket.on("error", this.onSocketError);
    socket.on("close", this.onSocketClose);
    this.scheduleKeepalive(options.keepaliveTimeMs);
  }

  /** Queues bytes; writes within one tick go to the socket as one batch. Returns false when the socket buffer is full. */
  write(frame: Buffer): boolean {
    if (this.closed) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    return this.socket.write(frame);
  }

  /** Ends the connection after pending writes. */
  end(): void {
    if (!this.closed) this.socket.end();
  }

  /** Closes the connection at once; `error` is reported to the handler. */
  destroy(error?: Error): void {
    if (this.closed) return;
    if (error !== undefined && this.error === undefined) this.error = error;
    this.socket.destroy();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly onSocketData = (chunk: Buffer): void => {
    this.readSinceTick = true;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  };

  private readonly onFrame = (type: number, flags: number, streamId: number, payload: Buffer): void => {
    if (this.socket.destroyed) return;
    if (type === FRAME_DATA) {
      this.handler.onData(streamId, payload);
    } else if (type === FRAME_PING && (flags & FLAG_ACK) === 0) {
      this.write(pingFrame(streamId, true));
    }
  };

  private readonly onSocketError = (err: Error): void => {
    if (this.error === undefined) this.error = err;
  };

  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    if (this.keepaliveTimer !== undefined) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.handler.onClose(this.error);
  };

  private scheduleKeepalive(ms: number): void {
    this.keepaliveTimer = setTimeout(this.keepaliveTick, ms);
    this.keepaliveTimer.unref();
  }

  /**
   * Keepalive (SPEC §3.1): after `keepaliveTimeMs` without reading anything,
   * send a PING; if still nothing was read `keepaliveTimeoutMs` later, close.
   * Any frame read counts as life, so calls in flight on a live peer (which
   * answers PINGs) are never cut.
   */
  private readonly keepaliveTick = (): void => {
    if (this.closed) return;
    if (this.readSinceTick) {
      this.readSinceTick = false;
      this.pinged = false;
      this.scheduleKeepalive(this.options.keepaliveTimeMs);
    } else if (!this.pinged) {
      this.pinged = true;
      this.write(pingFrame(0, false));
      this.scheduleKeepalive(this.options.keepaliveTimeoutMs);
    } else {
      this.destroy(new KeepaliveTimeoutError(`no frame received for ${this.options.keepaliveTimeMs + this.options.keepaliveTimeoutMs} ms`));
    }
  };
}
