/**
 * A nap transport connection over a TCP or TLS socket: framing, PING/ACK,
 * keepalive, write batching and backpressure (SPEC §3.1, §4). Used by both
 * server and client. Internal module.
 */
import type { Socket } from "node:net";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import { FrameDecoder } from "./protocol/frame-decoder.js";
import { FLAG_ACK, FRAME_PING, pingFrame } from "./protocol/frame.js";
import type { TransportOptions } from "./options.js";

/** Why a connection was closed by keepalive. */
export class KeepaliveTimeoutError extends Error {
  override name = "KeepaliveTimeoutError";
}

/** Why a connection was closed when a started frame did not complete within `frameTimeoutMs`. */
export class FrameTimeoutError extends Error {
  override name = "FrameTimeoutError";
}

/** Options of one {@link NapConnection}. */
export interface NapConnectionOptions extends TransportOptions {
  /**
   * Stop reading while the socket's write buffer is full, until it drains
   * (SPEC §4: a server does this so a peer that does not read cannot grow its
   * memory). A client does not: it must keep reading answers.
   */
  readonly pauseReadsWhileBlocked: boolean;
}

/** A socket speaking nap frames. */
export class NapConnection implements FrameChannel {
  closed = false;
  private readonly decoder: FrameDecoder;
  private corked = false;
  private paused = false;
  /** A whole frame was read since the last keepalive tick (SPEC §3.1: liveness counts frames, not bytes). */
  private readSinceTick = false;
  private pinged = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** A frame was decoded during the current `push`. */
  private decodedInPush = false;
  /** When the frame now being collected began (epoch ms), or 0 when no frame is partly received. */
  private partialSince = 0;
  private frameTimer: NodeJS.Timeout | undefined;
  private error: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: NapConnectionOptions,
    private readonly listener: FrameListener,
  ) {
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(options.maxFrameBytes, this.onDecodedFrame);
    socket.on("data", this.onSocketData);
    socket.on("error", this.onSocketError);
    socket.on("close", this.onSocketClose);
    this.scheduleKeepalive(options.keepaliveTimeMs);
  }

  /** Queues a frame; frames written within one tick go to the socket as one batch. */
  write(frame: Buffer): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    if (!this.socket.write(frame) && this.options.pauseReadsWhileBlocked && !this.paused) {
      this.paused = true;
      this.socket.pause();
      this.socket.once("drain", this.resume);
    }
  }

  end(): void {
    if (!this.closed) this.socket.end();
  }

  destroy(error?: Error): void {
    if (this.closed) return;
    if (error !== undefined && this.error === undefined) this.error = error;
    this.socket.destroy();
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly resume = (): void => {
    this.paused = false;
    this.socket.resume();
  };

  private readonly onSocketData = (chunk: Buffer): void => {
    const decoder = this.decoder;
    this.decodedInPush = false;
    try {
      decoder.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    // SPEC §4: a started frame must complete within frameTimeoutMs; a frame
    // that begins after another completed gets its own full time.
    if (decoder.bufferedBytes === 0) this.partialSince = 0;
    else if (this.partialSince === 0 || this.decodedInPush) this.startFrameClock();
  };

  private startFrameClock(): void {
    this.partialSince = Date.now();
    if (this.frameTimer === undefined && !this.closed) this.armFrameTimer(this.options.frameTimeoutMs);
  }

  private armFrameTimer(ms: number): void {
    this.frameTimer = setTimeout(this.frameTick, ms);
    this.frameTimer.unref();
  }

  private readonly frameTick = (): void => {
    this.frameTimer = undefined;
    if (this.closed || this.partialSince === 0) return;
    const left = this.partialSince + this.options.frameTimeoutMs - Date.now();
    if (left > 0) {
      this.armFrameTimer(left);
    } else {
      this.destroy(new FrameTimeoutError(`a frame was not completed within ${this.options.frameTimeoutMs} ms (${this.decoder.bufferedBytes} bytes received)`));
    }
  };

  private readonly onDecodedFrame = (type: number, flags: number, streamId: number, payload: Buffer): void => {
    this.readSinceTick = true;
    this.decodedInPush = true;
    if (this.socket.destroyed) return;
    if (type === FRAME_PING && (flags & FLAG_ACK) === 0) this.write(pingFrame(streamId, true));
    this.listener.onFrame(type, flags, streamId, payload);
  };

  private readonly onSocketError = (err: Error): void => {
    if (this.error === undefined) this.error = err;
  };

  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    if (this.keepaliveTimer !== undefined) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (this.frameTimer !== undefined) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    this.listener.onClose(this.error);
  };

  private scheduleKeepalive(ms: number): void {
    this.keepaliveTimer = setTimeout(this.keepaliveTick, ms);
    this.keepaliveTimer.unref();
  }

  /**
   * Keepalive (SPEC §3.1): after `keepaliveTimeMs` without reading a whole
   * frame, send a PING; if still no frame was read `keepaliveTimeoutMs` later,
   * close. Any frame read counts as life, so calls in flight on a live peer
   * (which answers PINGs) are never cut; bytes that never make a frame do not.
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
