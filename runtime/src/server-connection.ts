/**
 * One connection accepted by a server: it turns DATA frames into calls,
 * answering on the same stream id, and rejects what cannot become a call
 * (SPEC §3.1–§3.3). Internal module.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import type { Peer } from "./handler-context.js";
import type { MethodRouter } from "./method-router.js";
import type { ServerConfig } from "./options.js";
import { MAX_TIMEOUT_MS } from "./options.js";
import { FRAME_DATA, FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { decodePkg, type Head } from "./protocol/pkg.js";
import { parseTimeout, statusMeta, stripReserved, TIMEOUT_KEY } from "./protocol/reserved-meta.js";
import { encodeOpenFrame, FLAG_END, FLAG_OPEN } from "./protocol/stream-frame.js";
import { ServerCall, type CallConnection, type CallServer } from "./server-call.js";
import { ServerStream } from "./server-stream.js";

/** What a connection needs from its server. */
export interface ServerCore extends CallServer {
  readonly config: ServerConfig;
  readonly router: MethodRouter;
  /** True once the server is shutting down: new calls get `Unavailable`. */
  readonly closing: boolean;
  /** The connection has closed. */
  connectionClosed(connection: ServerConnection): void;
}

const EMPTY_BYTES = new Uint8Array(0);
/** Characters of peer-sent text (a method name, a serialize type) an error message quotes at most. */
export const MAX_ECHOED_CHARS = 100;

/** `text` quoted for an error message, cut to {@link MAX_ECHOED_CHARS} characters so an answer stays small. */
function quote(text: string): string {
  return text.length <= MAX_ECHOED_CHARS ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, MAX_ECHOED_CHARS))}… (${text.length} characters)`;
}
const NO_HEAD: Head = { version: 0, serializeType: "", seq: 0, method: "", meta: undefined, metaBytes: 0 };

/** A connection of a server, over a socket or an in-process channel. */
export class ServerConnection implements FrameListener, CallConnection {
  readonly channel: FrameChannel;
  private readonly calls = new Map<number, ServerCall | ServerStream>();

  constructor(
    readonly server: ServerCore,
    /** The peer, captured when the connection was accepted. */
    readonly peer: Peer,
    open: (listener: FrameListener) => FrameChannel,
  ) {
    this.channel = open(this);
  }

  onOpen(): void {}

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (type !== FRAME_DATA) return;
    if (flags !== 0 && (flags & FLAG_OPEN) === 0) {
      // A frame of an open stream. One for a stream that has ended (late
      // after a RESET or the server's END) is dropped.
      const call = this.calls.get(streamId);
      if (call instanceof ServerStream) call.onFrame(flags, payload);
      return;
    }
    if (this.calls.has(streamId)) {
      // SPEC §3.1: a stream id already in flight is a protocol error.
      this.channel.destroy(new Error(`protocol error: stream id ${streamId} is already in flight`));
      return;
    }
    let pkg;
    try {
      pkg = decodePkg(payload);
    } catch {
      return this.reject(streamId, flags, NO_HEAD, Code.BadRequest, "malformed Pkg");
    }
    const head = pkg.head;
    if (head === undefined) return this.reject(streamId, flags, NO_HEAD, Code.BadRequest, "Pkg has no head");
    const server = this.server;
    const config = server.config;
    if (head.method === "") return this.reject(streamId, flags, head, Code.BadRequest, "empty method");
    const codec = config.codecs.get(head.serializeType);
    if (codec === undefined) return this.reject(streamId, flags, head, Code.BadRequest, `unknown serialize_type ${quote(head.serializeType)}`);
    if (head.metaBytes > config.maxMetadataBytes) return this.reject(streamId, flags, head, Code.BadRequest, `metadata exceeds ${config.maxMetadataBytes} bytes`);
    let deadline: number | undefined;
    const timeout = head.meta?.[TIMEOUT_KEY];
    if (timeout !== undefined) {
      const ms = parseTimeout(timeout);
      if (ms === undefined) return this.reject(streamId, flags, head, Code.BadRequest, `invalid ${TIMEOUT_KEY} ${quote(timeout)}`);
      // No time at all: the deadline has passed before the call began, so nothing runs.
      if (ms === 0) return this.reject(streamId, flags, head, Code.DeadlineExceeded, "deadline exceeded");
      // SPEC §4: deadlines are clamped to MAX_TIMEOUT_MS (a longer timer would fire at once).
      deadline = Date.now() + (ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : ms);
    }
    if (server.closing) return this.reject(streamId, flags, head, Code.Unavailable, "server is shutting down");
    if (this.calls.size >= config.maxConcurrentCalls) {
      return this.reject(streamId, flags, head, Code.ResourceExhausted, `more than ${config.maxConcurrentCalls} calls in flight on this connection`);
    }
    const route = server.router.lookup(head.method);
    if (route.kind === "unknown") return this.reject(streamId, flags, head, Code.Unimplemented, `unknown method ${quote(head.method)}`);
    if (route.kind === "ambiguous") return this.reject(streamId, flags, head, Code.Unimplemented, `method name ${quote(head.method)} is ambiguous`);
    const rpc = route.method;
    if (flags !== 0) {
      if (rpc.kind === "unary") return this.reject(streamId, flags, head, Code.Unimplemented, `method ${rpc.name} is unary, not streaming`);
      const stream = new ServerStream(this, streamId, head, codec, rpc, stripReserved(head.meta), deadline, config.streamWindowBytes);
      this.calls.set(streamId, stream);
      if (deadline !== undefined) server.wheel.add(stream, deadline);
      stream.open(flags, pkg.payload, payload.length);
      return;
    }
    if (rpc.kind !== "unary") return this.reject(streamId, flags, head, Code.Unimplemented, `method ${rpc.name} is ${rpc.kind.replace("_", "-")}; call it as a stream`);
    let request: MessageShape<DescMessage>;
    try {
      request = codec.decode(rpc.desc.input, pkg.payload);
    } catch {
      return this.reject(streamId, flags, head, Code.BadRequest, `cannot decode ${rpc.desc.input.typeName} with the ${codec.name} codec`);
    }
    const call = new ServerCall(this, streamId, head, codec, rpc, stripReserved(head.meta), deadline);
    this.calls.set(streamId, call);
    if (deadline !== undefined) server.wheel.add(call, deadline);
    void call.run(request);
  }

  /**
   * Answers a request that never became a call, echoing what its head says:
   * a unary answer to a unary request (flags 0), an OPEN|END frame to a
   * stream's OPEN. SPEC §4: no frame is sent above `maxFrameBytes`; when the
   * echoed method and serialize type would not fit, the answer carries the
   * status alone.
   */
  private reject(streamId: number, flags: number, head: Head, code: Code, message: string): void {
    const status = statusMeta(code, message);
    const flagsOut = flags === 0 ? 0 : FLAG_OPEN | FLAG_END;
    let frame = encodeOpenFrame(streamId, flagsOut, head, undefined, status, EMPTY_BYTES);
    if (frame.length - FRAME_HEADER_BYTES > this.server.config.transport.maxFrameBytes) {
      frame = encodeOpenFrame(streamId, flagsOut, { version: head.version, serializeType: "", seq: head.seq, method: "" }, undefined, status, EMPTY_BYTES);
    }
    this.channel.write(frame);
  }

  /** A call has answered (or was aborted). */
  finished(call: ServerCall | ServerStream): void {
    this.calls.delete(call.streamId);
    if (this.server.closing && this.calls.size === 0) this.channel.end();
  }

  /** Graceful close: end now when no call is in flight, else when the last one finishes. */
  closeIfIdle(): void {
    if (this.calls.size === 0) this.channel.end();
  }

  /** Closes at once; calls in flight are aborted. */
  destroy(reason: Error): void {
    this.channel.destroy(reason);
  }

  /**
   * The server's grace period is over: every open stream ends with
   * `Unavailable` (its END frame is written), then the connection closes on
   * the next turn of the event loop, once those frames have left.
   */
  shutDown(reason: Error): void {
    for (const call of this.calls.values()) if (call instanceof ServerStream) call.shutDown();
    setImmediate(() => this.channel.destroy(reason));
  }

  onClose(error: Error | undefined): void {
    if (error !== undefined) this.server.logger.debug("connection closed", { peer: this.peer.address, error: error.message });
    for (const call of this.calls.values()) call.abort(new DoraError(Code.Canceled, "connection closed"));
    this.calls.clear();
    this.server.connectionClosed(this);
  }
}
