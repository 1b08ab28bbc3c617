/**
 * What `Client.serverStream` and `Client.bidiStream` return: the responses
 * of one streaming call as an `AsyncIterable`. The call starts on the first
 * `next()`; `return()` (a `break` out of `for await`) cancels it in any
 * state — before the headers arrived too — and settles a pending `next()`
 * with `done`. Internal module.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { CallOptions } from "./client-options.js";
import { DoraError } from "./dora-error.js";
import type { AnyResponse } from "./interceptor.js";
import { EMPTY_META } from "./protocol/reserved-meta.js";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** The responses of a streaming call, read once. */
export class ResponseStream<O extends DescMessage> implements AsyncIterableIterator<MessageShape<O>> {
  private inner: AsyncIterator<MessageShape<O>> | undefined;
  private response: Promise<AnyResponse> | undefined;
  private trailer: Readonly<Record<string, string>> = EMPTY_META;
  private closed = false;
  private readonly controller = new AbortController();

  /**
   * @param open starts the call with a signal that aborts when this stream is
   *   closed early; resolves with the response once its headers arrived.
   */
  constructor(
    private readonly open: (signal: AbortSignal) => Promise<AnyResponse>,
    private readonly options: CallOptions | undefined,
  ) {}

  next(): Promise<IteratorResult<MessageShape<O>>> {
    if (this.closed) return Promise.resolve(DONE);
    const inner = this.inner;
    if (inner !== undefined) return inner.next().then(this.onResult, this.onError);
    this.response ??= this.open(this.controller.signal);
    return this.response.then(this.onResponse, this.onError);
  }

  /** Stops reading: cancels the call unless it has ended, and settles a pending `next()` with `done`. */
  return(): Promise<IteratorResult<MessageShape<O>>> {
    if (!this.closed) {
      this.closed = true;
      const inner = this.inner;
      if (inner !== undefined) void inner.return?.()?.then(undefined, () => {});
      this.controller.abort(new DoraError(Code.Canceled, "the stream was closed by its reader"));
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private readonly onResponse = (res: AnyResponse): Promise<IteratorResult<MessageShape<O>>> | IteratorResult<MessageShape<O>> => {
    if (!res.stream) throw new DoraError(Code.Internal, "an interceptor answered a stream with a unary response");
    if (this.closed) return DONE;
    if (this.inner === undefined) {
      this.inner = (res.message as AsyncIterable<MessageShape<O>>)[Symbol.asyncIterator]();
      this.trailer = res.trailer;
      this.options?.onHeader?.(res.meta);
    }
    return this.next();
  };

  private readonly onResult = (result: IteratorResult<MessageShape<O>>): IteratorResult<MessageShape<O>> => {
    if (result.done === true && !this.closed) {
      this.closed = true;
      this.options?.onTrailer?.(this.trailer);
    }
    return result;
  };

  private readonly onError = (err: unknown): IteratorResult<MessageShape<O>> => {
    if (this.closed) return DONE;
    this.closed = true;
    const error = DoraError.from(err);
    this.options?.onTrailer?.(error.metadata);
    throw error;
  };
}
