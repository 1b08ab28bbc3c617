/**
 * One streaming call of a client (docs/protocol.md "Streaming"): it sends
 * the OPEN frame and the requests within the stream's flow-control credit,
 * half-closes, receives the headers, the responses and the end with its
 * status and trailers, and settles exactly once — by the server's END, a
 * RESET, its deadline, its caller's abort or its connection closing.
 * Internal module.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { ReceiveWindow, SendWindow } from "./flow-window.js";
import type { StreamRequest, StreamResponse } from "./interceptor.js";
import { closeQuietly, MessageQueue, type MessageQueueOwner } from "./message-queue.js";
import { NEVER_ABORTED, type PendingCallOwner } from "./pending-call.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { decodePkg, type Pkg } from "./protocol/pkg.js";
import { EMPTY_META, statusFromMeta, stripReserved } from "./protocol/reserved-meta.js";
import {
  emptyStreamFrame,
  encodeMessageFrame,
  FLAG_END,
  FLAG_MESSAGE,
  FLAG_OPEN,
  FLAG_RESET,
  FLAG_WINDOW,
  readWindowIncrement,
  windowFrame,
} from "./protocol/stream-frame.js";

/** The connection a stream was opened on. */
export interface ClientStreamConnection {
  /** Writes a frame of this connection (a no-op once it has closed). */
  write(frame: Buffer): void;
  /** Closes the connection: the peer broke the protocol. */
  violation(reason: string): void;
  /** Forgets a call that settled. */
  forget(call: ClientStream): void;
}

/** A streaming call on a client connection, from its OPEN frame until it settles. */
export class ClientStream<O extends DescMessage = DescMessage> implements Expirable, MessageQueueOwner {
  /** Tells a stream from a unary call in the connection's table. */
  readonly streaming = true;
  deadlineSlot: Set<Expirable> | undefined = undefined;
  /** Resolves with the headers once the server's first frame arrives. */
  readonly response: Promise<StreamResponse<O>>;
  private readonly responses: MessageQueue<MessageShape<O>>;
  private readonly trailer: Record<string, string> = {};
  private readonly sendWindow = new SendWindow();
  private readonly receiveWindow: ReceiveWindow;
  private resolveResponse!: (response: StreamResponse<O>) => void;
  private rejectResponse!: (reason: DoraError) => void;
  private headed = false;
  private settled = false;
  private readonly output: O;
  private readonly signal: AbortSignal;

  constructor(
    private readonly owner: PendingCallOwner,
    private readonly connection: ClientStreamConnection,
    readonly streamId: number,
    request: StreamRequest<DescMessage, O>,
    windowBytes: number,
  ) {
    this.output = request.desc.output;
    this.signal = request.signal;
    this.responses = new MessageQueue(this);
    this.receiveWindow = new ReceiveWindow(windowBytes);
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    // Nobody may ever await the headers (a caller that breaks out at once).
    this.response.catch(() => {});
    if (this.signal !== NEVER_ABORTED) this.signal.addEventListener("abort", this);
  }

  /** The caller's signal aborted (this object is its listener): cancel with `Canceled`. */
  handleEvent(): void {
    this.cancel(new DoraError(Code.Canceled, "the call was aborted"));
  }

  /**
   * The deadline passed: fail with `DeadlineExceeded`. No RESET is sent: the
   * server holds the same deadline (`dora-timeout`) and ends the stream
   * itself, so its handler sees `DeadlineExceeded` too.
   */
  expire(): void {
    if (this.settled) return;
    this.fail(new DoraError(Code.DeadlineExceeded, "deadline exceeded"), true);
    this.connection.forget(this);
  }

  /** The reader stopped before the end (`break`, `return()`): cancel. */
  abandoned(): void {
    this.cancel(new DoraError(Code.Canceled, "the stream was closed by its reader"));
  }

  /** The caller read a response: credit goes back to the server in batches. */
  consumed(bytes: number): void {
    const increment = this.receiveWindow.consume(bytes);
    if (increment > 0 && !this.settled) this.connection.write(windowFrame(this.streamId, increment));
  }

  /** Cancels the stream from this side: RESET to the server, and the call fails with `reason`. */
  cancel(reason: DoraError): void {
    if (this.settled) return;
    this.connection.write(emptyStreamFrame(this.streamId, FLAG_RESET));
    this.fail(reason, true);
    this.connection.forget(this);
  }

  /** Fails the call: the headers promise rejects, reading rejects (at once when `drop`, else after what is queued). */
  fail(error: DoraError, drop = false): void {
    if (this.settled) return;
    this.settle();
    if (!this.headed) this.rejectResponse(error);
    this.responses.fail(error, drop);
  }

  /**
   * A frame for this stream. Returns true when the stream is over (the
   * connection then forgets it).
   */
  onFrame(flags: number, payload: Buffer): boolean {
    if (this.settled) return true;
    if ((flags & FLAG_RESET) !== 0) {
      // What had arrived is still read; then the call fails.
      this.fail(new DoraError(Code.Canceled, "the server canceled the stream"));
      return true;
    }
    if (flags === 0) return this.unaryAnswer(payload);
    if ((flags & FLAG_WINDOW) !== 0) {
      const increment = readWindowIncrement(payload);
      if (increment === undefined || !this.sendWindow.grant(increment)) {
        this.connection.violation(`invalid WINDOW on stream ${this.streamId}`);
        return false;
      }
    }
    if ((flags & (FLAG_OPEN | FLAG_MESSAGE | FLAG_END)) === 0) return false;
    let pkg: Pkg;
    try {
      pkg = decodePkg(payload);
    } catch {
      this.cancel(new DoraError(Code.Internal, "malformed frame from the server"));
      return true;
    }
    // OPEN|END (a stream that ends before its first message) carries trailers only: the END below handles it.
    if ((flags & (FLAG_OPEN | FLAG_END)) === FLAG_OPEN && !this.headed) {
      this.headed = true;
      // A window larger than the default is announced once the server has shown it streams
      // (a WINDOW's payload is not a Pkg, so a dora v2 server is never sent one).
      const raise = this.receiveWindow.announce();
      if (raise > 0) this.connection.write(windowFrame(this.streamId, raise));
      this.resolveResponse({ stream: true, meta: stripReserved(pkg.head?.meta), message: this.responses, trailer: this.trailer });
    }
    if ((flags & FLAG_MESSAGE) !== 0) {
      if (!this.receiveWindow.receive(payload.length)) {
        this.connection.violation(`stream ${this.streamId} sent beyond its flow-control window`);
        return false;
      }
      let message: MessageShape<O>;
      try {
        message = this.owner.config.codec.decode(this.output, pkg.payload);
      } catch (err) {
        this.cancel(new DoraError(Code.Internal, `cannot decode ${this.output.typeName}: ${(err as Error).message}`));
        return true;
      }
      if (!this.responses.push(message, payload.length)) this.consumed(payload.length);
    }
    if ((flags & FLAG_END) !== 0) {
      const meta = pkg.head?.meta;
      Object.assign(this.trailer, stripReserved(meta));
      const error = statusFromMeta(meta);
      this.settle();
      if (error !== undefined) {
        // An error before the headers fails the call as a unary one would: `next` rejects.
        if (!this.headed) this.rejectResponse(error);
        this.responses.fail(error);
      } else {
        if (!this.headed) {
          this.headed = true;
          this.resolveResponse({ stream: true, meta: EMPTY_META, message: this.responses, trailer: this.trailer });
        }
        this.responses.end();
      }
      return true;
    }
    return false;
  }

  /**
   * Sends the requests, each once the server has granted credit for it (a
   * slow server pauses the caller's iterable), then half-closes. An error of
   * the iterable cancels the call with that error.
   */
  async sendRequests(requests: AsyncIterable<MessageShape<DescMessage>>, input: DescMessage): Promise<void> {
    const codec = this.owner.config.codec;
    const maxFrameBytes = this.owner.config.maxFrameBytes;
    let it: AsyncIterator<MessageShape<DescMessage>> | undefined;
    let complete = false;
    try {
      it = requests[Symbol.asyncIterator]();
      for (;;) {
        if (!this.sendWindow.open) await this.sendWindow.wait();
        if (this.settled) return;
        const r = await it.next();
        if (this.settled) return;
        if (r.done === true) break;
        const frame = encodeMessageFrame(this.streamId, FLAG_MESSAGE, codec.encode(input, r.value));
        const bytes = frame.length - FRAME_HEADER_BYTES;
        if (bytes > maxFrameBytes) {
          this.cancel(new DoraError(Code.OutOfRange, `request of ${bytes} bytes exceeds the maximum frame size of ${maxFrameBytes} bytes`));
          return;
        }
        this.sendWindow.spend(bytes);
        this.connection.write(frame);
      }
      complete = true;
      this.connection.write(emptyStreamFrame(this.streamId, FLAG_END));
    } catch (err) {
      complete = true;
      this.cancel(err instanceof DoraError ? err : new DoraError(Code.Canceled, `the request stream failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    } finally {
      if (!complete && it !== undefined) closeQuietly(it);
    }
  }

  /** A unary answer to the OPEN: a dora v2 peer that does not know streams (docs/protocol.md). */
  private unaryAnswer(payload: Buffer): boolean {
    let error: DoraError | undefined;
    try {
      error = statusFromMeta(decodePkg(payload).head?.meta);
    } catch {
      error = undefined;
    }
    this.fail(error ?? new DoraError(Code.Unimplemented, "the server answered a stream as a unary call: it does not support streaming"));
    return true;
  }

  private settle(): void {
    this.settled = true;
    this.owner.wheel.remove(this);
    this.sendWindow.wake();
    if (this.signal !== NEVER_ABORTED) this.signal.removeEventListener("abort", this);
  }
}
