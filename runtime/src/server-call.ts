/**
 * One unary call in flight on a server: it runs the interceptors and the
 * handler, is the handler's context, and answers exactly once (SPEC §3.2).
 * Internal module.
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { Codec } from "./codec.js";
import { createContextValues, type ContextValues } from "./context-values.js";
import type { DeadlineWheel, Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext, Peer } from "./handler-context.js";
import type { FrameChannel } from "./frame-channel.js";
import { chain, type AnyRequest, type Interceptor, type UnaryRequest, type UnaryResponse } from "./interceptor.js";
import { errorFields, type Logger } from "./logger.js";
import type { UnaryMethod } from "./method-router.js";
import type { ServerStream } from "./server-stream.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { encodePkgFrame, type Head } from "./protocol/pkg.js";
import { statusMeta, type ReservedMeta } from "./protocol/reserved-meta.js";

const EMPTY_BYTES = new Uint8Array(0);

/** What a call needs from its server. */
export interface CallServer {
  /** Server interceptors, the first being the outermost. */
  readonly interceptors: readonly Interceptor[];
  readonly logger: Logger;
  readonly wheel: DeadlineWheel;
  readonly config: { readonly transport: { readonly maxFrameBytes: number } };
}

/** What a call needs from the connection it arrived on. */
export interface CallConnection {
  readonly server: CallServer;
  readonly peer: Peer;
  readonly channel: FrameChannel;
  /** The call has answered (or was aborted). */
  finished(call: ServerCall | ServerStream): void;
}

/**
 * A call from the moment its request is decoded until its answer is written
 * or its connection closes. It is also the handler's {@link HandlerContext}:
 * the abort controller, response metadata and values are created only when
 * someone asks for them.
 */
export class ServerCall implements HandlerContext, Expirable {
  deadlineSlot: Set<Expirable> | undefined = undefined;
  private done = false;
  private controller: AbortController | undefined;
  /** Why the call was aborted before anyone asked for its signal. */
  private abortReason: DoraError | undefined;
  private respMeta: Record<string, string> | undefined;
  private valueStore: ContextValues | undefined;
  private meta: Readonly<Record<string, string>>;

  constructor(
    private readonly connection: CallConnection,
    readonly streamId: number,
    /** The request's head; the answer echoes its version, serialize type, seq and method. */
    private readonly head: Head,
    private readonly codec: Codec,
    private readonly rpc: UnaryMethod,
    requestMeta: Readonly<Record<string, string>>,
    readonly deadline: number | undefined,
  ) {
    this.meta = requestMeta;
  }

  get method(): string {
    return this.rpc.name;
  }

  /** The rpc's descriptor. */
  get rpcDesc(): UnaryMethod["desc"] {
    return this.rpc.desc;
  }

  get requestMeta(): Readonly<Record<string, string>> {
    return this.meta;
  }

  get peer(): Peer {
    return this.connection.peer;
  }

  get responseMeta(): Record<string, string> {
    return (this.respMeta ??= {});
  }

  /** A unary answer has one set of metadata: the trailers are the response metadata. */
  get responseTrailers(): Record<string, string> {
    return (this.respMeta ??= {});
  }

  /**
   * Created on first use: most handlers never read it. A call aborted before
   * that gets a signal that is already aborted with the same reason.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get values(): ContextValues {
    return (this.valueStore ??= createContextValues());
  }

  /**
   * Runs the call. Without interceptors the handler is called directly with
   * this call as its context, so a call costs no request or response objects;
   * with interceptors the call goes through the chain as a {@link UnaryRequest}.
   */
  async run(request: MessageShape<DescMessage>): Promise<void> {
    const interceptors = this.connection.server.interceptors;
    let message: MessageInitShape<DescMessage>;
    let meta: Readonly<Record<string, string>> | undefined;
    try {
      if (interceptors.length === 0) {
        message = await this.rpc.handler(request, this);
        meta = this.respMeta;
      } else {
        const response = (await chain(interceptors, (req) => this.callHandler(req))(this.request(request))) as UnaryResponse;
        message = response.message;
        meta = response.meta;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.done) return;
    let payload: Uint8Array;
    try {
      payload = this.codec.encode(this.rpc.desc.output, message);
    } catch (err) {
      this.respond(undefined, encodeFailureStatus(this.connection.server, this.rpc.name, err), EMPTY_BYTES);
      return;
    }
    this.respond(meta, undefined, payload);
  }

  /** Deadline passed (SPEC §3.2): answer `DeadlineExceeded` and abort the handler's signal. */
  expire(): void {
    if (this.done) return;
    this.respond(undefined, statusMeta(Code.DeadlineExceeded, "deadline exceeded"), EMPTY_BYTES);
    this.abortWith(new DoraError(Code.DeadlineExceeded, "deadline exceeded"));
  }

  /** The connection closed or the server shut down: abort the handler, send nothing. */
  abort(reason: DoraError): void {
    if (this.done) return;
    this.done = true;
    this.connection.server.wheel.remove(this);
    this.abortWith(reason);
  }

  private abortWith(reason: DoraError): void {
    if (this.controller === undefined) this.abortReason = reason;
    else this.controller.abort(reason);
  }

  /**
   * The request as interceptors see it; it shares this call's signal and
   * values, both created only when an interceptor or the handler reads them
   * (a copy made with `{ ...req }` reads them).
   */
  private request(message: MessageShape<DescMessage>): UnaryRequest {
    return new ServerRequest(this, message);
  }

  /** The last step of the chain: the handler, with the metadata and values the interceptors passed on. */
  private async callHandler(req: AnyRequest): Promise<UnaryResponse> {
    if (req.stream) throw new DoraError(Code.Internal, "an interceptor turned a unary call into a stream");
    if (!(req instanceof ServerRequest)) {
      // An interceptor passed a changed copy on: the handler sees its metadata and values.
      this.meta = req.meta;
      this.valueStore = req.values;
    }
    const result = await this.rpc.handler(req.message, this);
    // The router erases the rpc's types; the handler answers this rpc's output.
    return { stream: false, message: create(req.desc.output, result), meta: this.responseMeta };
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.respond(err instanceof DoraError ? mergeMeta(this.respMeta, err.metadata) : undefined, failureStatus(this.connection.server, this.rpc.name, err), EMPTY_BYTES);
  }

  private respond(meta: Readonly<Record<string, string>> | undefined, status: ReservedMeta | undefined, payload: Uint8Array): void {
    this.done = true;
    const connection = this.connection;
    connection.server.wheel.remove(this);
    if (!connection.channel.closed) {
      let frame = encodePkgFrame(this.streamId, this.head, meta, status, payload);
      if (frame.length - FRAME_HEADER_BYTES > connection.server.config.transport.maxFrameBytes) {
        // SPEC §3.1: a sender never sends an oversize frame; the call fails with OutOfRange instead.
        frame = encodePkgFrame(this.streamId, this.head, undefined, statusMeta(Code.OutOfRange, "response exceeds the maximum frame size"), EMPTY_BYTES);
      }
      connection.channel.write(frame);
    }
    connection.finished(this);
  }
}

/** A server call's {@link UnaryRequest}: its signal and values are the call's, created when first read. */
class ServerRequest implements UnaryRequest {
  readonly stream = false;
  readonly method: string;
  readonly desc: UnaryMethod["desc"];
  readonly meta: Readonly<Record<string, string>>;
  readonly deadline: number | undefined;
  readonly peer: Peer;

  constructor(
    private readonly call: ServerCall,
    readonly message: MessageShape<DescMessage>,
  ) {
    this.method = call.method;
    this.desc = call.rpcDesc;
    this.meta = call.requestMeta;
    this.deadline = call.deadline;
    this.peer = call.peer;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  get values(): ContextValues {
    return this.call.values;
  }
}

/**
 * The status a failed handler answers with: its `DoraError`'s code and
 * message, or `Unknown` (SPEC §3.4: the details are logged, never sent).
 */
export function failureStatus(server: CallServer, method: string, err: unknown): ReservedMeta {
  if (err instanceof DoraError) return statusMeta(err.code, err.rawMessage);
  server.logger.error("handler failed", { method, error: errorFields(err) });
  return statusMeta(Code.Unknown, "unknown error");
}

/** The status of a response the codec cannot encode: `Internal` (the details are logged, never sent). */
export function encodeFailureStatus(server: CallServer, method: string, err: unknown): ReservedMeta {
  server.logger.error("cannot encode the response", { method, error: errorFields(err) });
  return statusMeta(Code.Internal, "cannot encode the response");
}

/** Two metadata maps as one, the second's keys winning; either may be undefined. */
export function mergeMeta(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (a === undefined || Object.keys(a).length === 0) return b;
  if (b === undefined || Object.keys(b).length === 0) return a;
  return { ...a, ...b };
}
