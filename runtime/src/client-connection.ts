/**
 * One pooled connection of a client and its state machine (SPEC §4):
 * lazy connect, a probe that the server speaks dora, reconnect backoff,
 * graceful close. Internal module.
 *
 * ```
 *  idle ──call──► connecting ──first frame──► open ──closed──► idle
 *   ▲                 │ failed, timed out                │
 *   └── call after ── backoff ◄─────────────┘            close()
 *       retryAt        (calls fail fast)          closing ──► closed
 * ```
 */
import { Backoff } from "./backoff.js";
import { Code } from "./code.js";
import { ConnectTimeoutError, describeDialError, describeFailure, ProbeTimeoutError } from "./connection-failure.js";
import { DoraError } from "./dora-error.js";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import type { Logger } from "./logger.js";
import type { ClientStream, ClientStreamConnection } from "./client-stream.js";
import type { PendingCall, PendingCallConnection } from "./pending-call.js";
import { FRAME_DATA, pingFrame } from "./protocol/frame.js";

/** Opens the channels of a connection: a socket to `HOST:PORT`, or a pipe to an in-process server. */
export interface Dialer {
  /** The server as messages name it, e.g. `127.0.0.1:8443`. */
  readonly label: string;
  /** The channel is TLS (failures are described as TLS failures). */
  readonly tls: boolean;
  /** The client certificate it presents (PEM), to explain a rejection. */
  readonly clientCert?: string | Buffer | undefined;
  /** Starts opening a channel; `listener` hears `onOpen` once it is established. May throw for bad settings. */
  dial(listener: FrameListener): FrameChannel;
}

/** Timing of a connection, validated. */
export interface ConnectionTimings {
  /** Time allowed to establish TCP (and TLS). */
  readonly connectTimeoutMs: number;
  /** Time allowed, once established, for the server's first frame (the answer to the probe PING). */
  readonly probeTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
}

/** What a connection needs besides its dialer. */
export interface ConnectionSettings extends ConnectionTimings {
  /** Failed connects and closed connections are logged at debug level. */
  readonly logger: Logger;
}

type ConnectionState =
  /** No channel; the next call connects. */
  | { readonly kind: "idle" }
  /** Establishing TCP/TLS (`transportUp` false), then waiting for the first frame (`transportUp` true). */
  | { readonly kind: "connecting"; readonly channel: FrameChannel; transportUp: boolean; timer: NodeJS.Timeout }
  /** The server has answered on this channel. */
  | { readonly kind: "open"; readonly channel: FrameChannel }
  /** The last connect failed; calls fail fast until `retryAt` (epoch ms). */
  | { readonly kind: "backoff"; readonly retryAt: number; readonly reason: string }
  /** `close()` was called: the channel ends once no call is in flight. */
  | { readonly kind: "closing"; readonly channel: FrameChannel; open: boolean; readonly done: () => void }
  | { readonly kind: "closed" };

const IDLE: ConnectionState = { kind: "idle" };
const CLOSED: ConnectionState = { kind: "closed" };

/** A pooled connection. Calls are multiplexed on it by stream id. */
export class ClientConnection implements FrameListener, PendingCallConnection, ClientStreamConnection {
  private state: ConnectionState = IDLE;
  private readonly pending = new Map<number, PendingCall | ClientStream>();
  private streamId = 0;
  private readonly backoff: Backoff;
  private closePromise: Promise<void> | undefined;

  constructor(
    private readonly dialer: Dialer,
    private readonly timings: ConnectionSettings,
  ) {
    this.backoff = new Backoff({ initialMs: timings.reconnectInitialMs, maxMs: timings.reconnectMaxMs });
  }

  /** True when a call may be started now. */
  usable(now: number): boolean {
    const s = this.state;
    return s.kind === "idle" || s.kind === "connecting" || s.kind === "open" || (s.kind === "backoff" && now >= s.retryAt);
  }

  /** Calls and streams waiting for answers on this connection. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Why the last connect failed, while backing off. */
  get failure(): string | undefined {
    return this.state.kind === "backoff" ? this.state.reason : undefined;
  }

  /** A stream id not in flight on this connection. */
  nextStreamId(): number {
    do {
      this.streamId = this.streamId >= 0xffffffff ? 1 : this.streamId + 1;
    } while (this.pending.has(this.streamId));
    return this.streamId;
  }

  /** Registers the call and writes its frame, connecting first when needed (writes wait for the connection). */
  start(call: PendingCall | ClientStream, frame: Buffer): void {
    let s = this.state;
    if (s.kind === "idle" || s.kind === "backoff") s = this.connect();
    if (s.kind !== "connecting" && s.kind !== "open") {
      // The dialer refused its settings (backoff), or the connection is closing.
      call.fail(new DoraError(Code.Unavailable, s.kind === "backoff" ? s.reason : "the client is closed"));
      return;
    }
    // Only a connection with calls in flight keeps the process alive (SPEC §4: a CLI exits when done).
    if (this.pending.size === 0) s.channel.ref();
    this.pending.set(call.streamId, call);
    s.channel.write(frame);
  }

  /** Writes a further frame of a call in flight (a stream's messages, WINDOW, END, RESET); dropped when there is no channel. */
  write(frame: Buffer): void {
    const s = this.state;
    if (s.kind === "open" || s.kind === "connecting" || s.kind === "closing") s.channel.write(frame);
  }

  /** The server broke the protocol on a stream (flow control): the connection closes, failing its calls with `Unavailable`. */
  violation(reason: string): void {
    const s = this.state;
    if (s.kind === "open" || s.kind === "connecting" || s.kind === "closing") s.channel.destroy(new Error(`protocol error: ${reason}`));
  }

  /** Drops a call that settled without an answer (deadline, abort), or a stream that ended. */
  forget(call: PendingCall | ClientStream): void {
    if (this.pending.get(call.streamId) === call) this.pending.delete(call.streamId);
    this.afterCall();
  }

  /** Cancels open streams, ends the connection once no unary call is in flight; resolves when it has closed. */
  close(): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise;
    const s = this.state;
    if (s.kind !== "connecting" && s.kind !== "open") {
      this.state = CLOSED;
      this.closePromise = Promise.resolve();
      return this.closePromise;
    }
    if (s.kind === "connecting") clearTimeout(s.timer);
    // Whoever awaits close() is kept alive until the channel has closed.
    s.channel.ref();
    this.closePromise = new Promise((done) => {
      this.state = { kind: "closing", channel: s.channel, open: s.kind === "open", done };
      // A stream may never end by itself (a watch): open streams are canceled.
      for (const call of this.pending.values()) if (call.streaming) call.cancel(new DoraError(Code.Canceled, "the client is closed"));
      this.endIfIdle();
    });
    return this.closePromise;
  }

  onOpen(): void {
    const s = this.state;
    if (s.kind !== "connecting") return;
    clearTimeout(s.timer);
    s.transportUp = true;
    s.timer = setTimeout(this.onProbeTimeout, this.timings.probeTimeoutMs);
    s.timer.unref();
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const s = this.state;
    if (s.kind === "connecting") {
      clearTimeout(s.timer);
      this.state = { kind: "open", channel: s.channel };
      this.backoff.reset();
    } else if (s.kind === "closing") {
      s.open = true;
    }
    if (type !== FRAME_DATA) return;
    const call = this.pending.get(streamId);
    if (call === undefined) return; // a late answer to a call that timed out or was aborted
    if (call.streaming) {
      if (call.onFrame(flags, payload) && this.pending.get(streamId) === call) {
        this.pending.delete(streamId);
        this.afterCall();
      }
      return;
    }
    this.pending.delete(streamId);
    call.complete(payload);
    this.afterCall();
  }

  onClose(error: Error | undefined): void {
    const s = this.state;
    if (s.kind === "connecting") clearTimeout(s.timer);
    const connecting = s.kind === "connecting" || (s.kind === "closing" && !s.open);
    const reason = describeFailure(error, {
      label: this.dialer.label,
      tls: this.dialer.tls,
      phase: connecting ? "connecting" : "open",
      transportUp: s.kind === "connecting" ? s.transportUp : true,
      clientCert: this.dialer.clientCert,
    });
    if (this.pending.size > 0) {
      for (const call of this.pending.values()) call.fail(new DoraError(Code.Unavailable, reason, error === undefined ? undefined : { cause: error }));
      this.pending.clear();
    }
    if (s.kind === "closing") {
      this.state = CLOSED;
      s.done();
    } else if (s.kind === "connecting") {
      // A failed connect: wait before the next attempt (gRPC-style backoff, SPEC §4).
      const delayMs = this.backoff.next();
      this.state = { kind: "backoff", retryAt: Date.now() + delayMs, reason };
      this.timings.logger.debug("connection failed", { reason, retryInMs: Math.round(delayMs) });
    } else if (s.kind === "open") {
      this.state = IDLE;
      this.timings.logger.debug("connection closed", { reason });
    }
  }

  private connect(): ConnectionState {
    let channel: FrameChannel;
    try {
      channel = this.dialer.dial(this);
    } catch (err) {
      const reason = describeDialError(err, this.dialer.label, this.dialer.tls);
      this.state = { kind: "backoff", retryAt: Date.now() + this.backoff.next(), reason };
      return this.state;
    }
    // SPEC §4: a peer that is not speaking dora is reported as such. Every dora
    // peer (dora v2 Go included) answers a PING at once, so the first frame on
    // the wire is a PING: silence, or bytes that are not a frame, mean another protocol.
    channel.write(pingFrame(0, false));
    const timer = setTimeout(this.onConnectTimeout, this.timings.connectTimeoutMs);
    timer.unref();
    this.state = { kind: "connecting", channel, transportUp: false, timer };
    return this.state;
  }

  private readonly onConnectTimeout = (): void => {
    const s = this.state;
    if (s.kind === "connecting" && !s.transportUp) s.channel.destroy(new ConnectTimeoutError(`no connection within ${this.timings.connectTimeoutMs} ms`));
  };

  private readonly onProbeTimeout = (): void => {
    const s = this.state;
    if (s.kind === "connecting" && s.transportUp) s.channel.destroy(new ProbeTimeoutError(`it sent nothing within ${this.timings.probeTimeoutMs} ms of connecting`));
  };

  private afterCall(): void {
    const s = this.state;
    if (s.kind === "closing") this.endIfIdle();
    else if (this.pending.size === 0 && (s.kind === "open" || s.kind === "connecting")) s.channel.unref();
  }

  private endIfIdle(): void {
    const s = this.state;
    if (s.kind !== "closing" || this.pending.size > 0) return;
    if (s.open) s.channel.end();
    else s.channel.destroy();
  }
}
