/**
 * One streaming call in flight on a server (server-, client- or
 * bidirectional streaming; docs/protocol.md "Streaming"): it feeds the
 * requests that arrive to the handler as an async iterable, sends what the
 * handler yields within the stream's flow-control credit, and ends the stream
 * exactly once, with its status and trailers. It is also the handler's
 * {@link HandlerContext}. Internal module.
 */
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { Codec } from "./codec.js";
import { createContextValues, type ContextValues } from "./context-values.js";
import type { Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { ReceiveWindow, SendWindow } from "./flow-window.js";
import type { HandlerContext, Peer } from "./handler-context.js";
import { chain, type AnyRequest, type StreamRequest, type StreamResponse } from "./interceptor.js";
import { closeQuietly, MessageQueue, type MessageQueueOwner } from "./message-queue.js";
import type { StreamMethod } from "./method-router.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { decodePkg, type Head } from "./protocol/pkg.js";
import { statusMeta, type ReservedMeta } from "./protocol/reserved-meta.js";
import {
  encodeEndFrame,
  encodeMessageFrame,
  encodeOpenFrame,
  FLAG_END,
  FLAG_MESSAGE,
  FLAG_OPEN,
  FLAG_RESET,
  FLAG_WINDOW,
  readWindowIncrement,
  windowFrame,
} from "./protocol/stream-frame.js";
import { encodeFailureStatus, failureStatus, mergeMeta, type CallConnection } from "./server-call.js";

type Message = MessageShape<DescMessage>;
type MessageInit = MessageInitShape<DescMessage>;

/** A streaming call on a server, from its OPEN frame to its END (or its cancellation). */
export class ServerStream implements HandlerContext, Expirable, MessageQueueOwner {
  deadlineSlot: Set<Expirable> | undefined = undefined;
  /** The requests, as the handler reads them. */
  readonly requests: MessageQueue<Message>;
  private readonly sendWindow = new SendWindow();
  private readonly receiveWindow: ReceiveWindow;
  private done = false;
  private headersSent = false;
  private controller: AbortController | undefined;
  private headers: Record<string, string> | undefined;
  private trailers: Record<string, string> | undefined;
  private valueStore: ContextValues | undefined;
  private meta: Readonly<Record<string, string>>;

  constructor(
    private readonly connection: CallConnection,
    readonly streamId: number,
    /** The OPEN frame's head; the server's first frame echoes its version, serialize type, seq and method. */
    private readonly head: Head,
    private readonly codec: Codec,
    private readonly rpc: StreamMethod,
    requestMeta: Readonly<Record<string, string>>,
    readonly deadline: number | undefined,
    windowBytes: number,
  ) {
    this.meta = requestMeta;
    this.requests = new MessageQueue(this);
    this.receiveWindow = new ReceiveWindow(windowBytes);
    const raise = this.receiveWindow.announce();
    if (raise > 0) connection.channel.write(windowFrame(streamId, raise));
  }

  get method(): string {
    return this.rpc.name;
  }

  get requestMeta(): Readonly<Record<string, string>> {
    return this.meta;
  }

  get peer(): Peer {
    return this.connection.peer;
  }

  get responseMeta(): Record<string, string> {
    return (this.headers ??= {});
  }

  get responseTrailers(): Record<string, string> {
    return (this.trailers ??= {});
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get values(): ContextValues {
    return (this.valueStore ??= createContextValues());
  }

  /**
   * Starts the stream from its OPEN frame: the message it may carry (`bytes`
   * being the frame's payload length), its END flag, then the handler.
   */
  open(flags: number, message: Uint8Array, bytes: number): void {
    if ((flags & FLAG_MESSAGE) !== 0) this.receive(message, bytes);
    if ((flags & FLAG_END) !== 0) this.requests.end();
    if (!this.done) void this.run();
  }

  /**
   * A frame for this stream after its OPEN (the OPEN frame's own message and
   * END are handed over the same way). A RESET cancels the stream; a WINDOW
   * or MESSAGE frame the flow control forbids closes the connection.
   */
  onFrame(flags: number, payload: Buffer): void {
    if (this.done) return;
    if ((flags & FLAG_RESET) !== 0) {
      this.abort(new DoraError(Code.Canceled, "the client canceled the stream"));
      this.connection.finished(this);
      return;
    }
    if ((flags & FLAG_WINDOW) !== 0) {
      const increment = readWindowIncrement(payload);
      if (increment === undefined || !this.sendWindow.grant(increment)) {
        this.connection.channel.destroy(new Error(`protocol error: invalid WINDOW on stream ${this.streamId}`));
        return;
      }
    }
    if ((flags & FLAG_MESSAGE) !== 0) {
      let message: Uint8Array;
      try {
        message = decodePkg(payload).payload;
      } catch {
        this.end(undefined, statusMeta(Code.BadRequest, "malformed Pkg"));
        return;
      }
      this.receive(message, payload.length);
      if (this.done) return;
    }
    if ((flags & FLAG_END) !== 0) this.requests.end();
  }

  /**
   * A request message of `bytes` frame payload bytes arrived: decoded and
   * queued for the handler. Sending beyond the window closes the connection.
   */
  receive(message: Uint8Array, bytes: number): void {
    if (!this.receiveWindow.receive(bytes)) {
      this.connection.channel.destroy(new Error(`protocol error: stream ${this.streamId} sent beyond its flow-control window`));
      return;
    }
    let request: Message;
    try {
      request = this.codec.decode(this.rpc.desc.input, message);
    } catch {
      this.end(undefined, statusMeta(Code.BadRequest, `cannot decode ${this.rpc.desc.input.typeName} with the ${this.codec.name} codec`));
      return;
    }
    // A handler that stopped reading still returns the credit, so the client is never stalled.
    if (!this.requests.push(request, bytes)) this.consumed(bytes);
  }

  /** The handler read a request: credit goes back to the client in batches. */
  consumed(bytes: number): void {
    const increment = this.receiveWindow.consume(bytes);
    if (increment > 0 && !this.done) this.connection.channel.write(windowFrame(this.streamId, increment));
  }

  /** The handler stopped reading the requests; it may still be sending. */
  abandoned(): void {}

  /**
   * Runs the call: interceptors, the handler, then the responses, each sent
   * once the client has granted credit for it (backpressure: the handler's
   * iterable is not pulled while the client is not reading).
   */
  private async run(): Promise<void> {
    try {
      const req: StreamRequest = { stream: true, method: this.rpc.name, desc: this.rpc.desc, meta: this.meta, deadline: this.deadline, signal: this.signal, message: this.requests, values: this.values, peer: this.peer };
      const interceptors = this.connection.server.interceptors;
      const response = interceptors.length === 0 ? await this.callHandler(req) : await chain(interceptors, this.callHandler)(req);
      if (!response.stream) throw new DoraError(Code.Internal, "an interceptor answered a stream with a unary response");
      await this.send(response);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Deadline passed: end with `DeadlineExceeded` and abort the handler's signal. */
  expire(): void {
    if (this.done) return;
    const reason = new DoraError(Code.DeadlineExceeded, "deadline exceeded");
    this.end(undefined, statusMeta(reason.code, reason.rawMessage));
    this.controller?.abort(reason);
  }

  /** The server's grace period is over: end with `Unavailable` and abort the handler. */
  shutDown(): void {
    if (this.done) return;
    const reason = new DoraError(Code.Unavailable, "server closed");
    this.end(undefined, statusMeta(reason.code, reason.rawMessage));
    this.controller?.abort(reason);
  }

  /** The client canceled or the connection closed: abort the handler, send nothing. */
  abort(reason: DoraError): void {
    if (this.done) return;
    this.done = true;
    this.connection.server.wheel.remove(this);
    this.requests.fail(reason, true);
    this.sendWindow.wake();
    this.controller?.abort(reason);
  }

  /** The last step of the chain: the handler, called in its rpc's shape. */
  private readonly callHandler = async (req: AnyRequest): Promise<StreamResponse> => {
    if (!req.stream) throw new DoraError(Code.Internal, "an interceptor turned a stream into a unary call");
    this.meta = req.meta;
    this.valueStore = req.values;
    const rpc = this.rpc;
    let message: AsyncIterable<MessageInit>;
    switch (rpc.kind) {
      case "server_streaming":
        message = rpc.handler(await onlyRequest(req.message), this);
        break;
      case "client_streaming": {
        const response = rpc.handler(req.message, this);
        // Read when the stream sends it; a stream canceled before that leaves the outcome to nobody.
        response.catch(() => {});
        message = once(response);
        break;
      }
      case "bidi_streaming":
        message = rpc.handler(req.message, this);
        break;
    }
    return { stream: true, meta: this.responseMeta, message: message as AsyncIterable<Message>, trailer: this.responseTrailers };
  };

  /** Sends each response within the stream's credit, then the end with status OK. */
  private async send(response: StreamResponse): Promise<void> {
    const it = response.message[Symbol.asyncIterator]();
    let complete = false;
    try {
      for (;;) {
        if (!this.sendWindow.open) await this.sendWindow.wait();
        if (this.done) return;
        const r = await it.next();
        if (this.done) return;
        if (r.done === true) break;
        this.sendMessage(r.value, response.meta);
        if (this.done) return;
      }
      complete = true;
    } finally {
      if (!complete) closeQuietly(it);
    }
    this.end(response.trailer, undefined, response.meta);
  }

  private sendMessage(value: MessageInit, headers: Readonly<Record<string, string>>): void {
    const output = this.rpc.desc.output;
    let payload: Uint8Array;
    try {
      // The codec takes a message or an init shape alike.
      payload = this.codec.encode(output, value);
    } catch (err) {
      this.end(undefined, encodeFailureStatus(this.connection.server, this.rpc.name, err));
      return;
    }
    const frame = this.headersSent
      ? encodeMessageFrame(this.streamId, FLAG_MESSAGE, payload)
      : encodeOpenFrame(this.streamId, FLAG_OPEN | FLAG_MESSAGE, this.head, headers, undefined, payload);
    const bytes = frame.length - FRAME_HEADER_BYTES;
    if (bytes > this.connection.server.config.transport.maxFrameBytes) {
      // SPEC §3.1: a sender never sends an oversize frame.
      this.end(undefined, statusMeta(Code.OutOfRange, "response exceeds the maximum frame size"));
      return;
    }
    this.headersSent = true;
    this.sendWindow.spend(bytes);
    this.connection.channel.write(frame);
  }

  /** The handler failed: its `DoraError`'s code, message and metadata, or `Unknown` (details logged, never sent). */
  private fail(err: unknown): void {
    if (this.done) return;
    this.end(err instanceof DoraError ? mergeMeta(this.trailers, err.metadata) : undefined, failureStatus(this.connection.server, this.rpc.name, err));
  }

  /**
   * Ends the stream with `status` (OK when undefined) and `trailers`. When no
   * frame was sent yet, the end is also the OPEN: its metadata are the
   * headers and trailers together.
   */
  private end(trailers: Readonly<Record<string, string>> | undefined, status: ReservedMeta | undefined, headers = this.headers): void {
    if (this.done) return;
    this.done = true;
    const connection = this.connection;
    connection.server.wheel.remove(this);
    this.requests.fail(new DoraError(Code.Canceled, "the stream has ended"), true);
    this.sendWindow.wake();
    if (!connection.channel.closed) {
      const frame = this.headersSent
        ? encodeEndFrame(this.streamId, FLAG_END, trailers, status)
        : encodeOpenFrame(this.streamId, FLAG_OPEN | FLAG_END, this.head, mergeMeta(headers, trailers), status, new Uint8Array(0));
      connection.channel.write(frame);
    }
    connection.finished(this);
  }
}

/** The one request of a server-streaming call. */
async function onlyRequest(requests: AsyncIterable<Message>): Promise<Message> {
  for await (const request of requests) return request;
  throw new DoraError(Code.BadRequest, "a server-streaming call needs one request message");
}

/** The one response of a client-streaming handler, as a stream. */
async function* once(response: Promise<MessageInit>): AsyncIterable<MessageInit> {
  yield await response;
}
