/**
 * A client call waiting for its answer: it settles exactly once, by the
 * answer, its deadline, its caller's abort or its connection closing
 * (SPEC §3.2, §4). Internal module.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { DeadlineWheel, Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import type { UnaryRequest, UnaryResponse } from "./interceptor.js";
import type { CallConfig } from "./options.js";
import { decodePkg } from "./protocol/pkg.js";
import { statusFromMeta, stripReserved } from "./protocol/reserved-meta.js";

/** The signal of a call whose caller gave none: it never aborts, and nothing listens to it. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** What a pending call needs from its client. */
export interface PendingCallOwner {
  readonly config: CallConfig;
  readonly wheel: DeadlineWheel;
}

/** The connection a call was sent on: it forgets a call that settles without its answer. */
export interface PendingCallConnection {
  forget(call: PendingCall): void;
}

/** One call sent on a connection, until it settles. It listens to its caller's signal itself (no closure per call). */
export class PendingCall<O extends DescMessage = DescMessage> implements Expirable {
  /** Tells a unary call from a stream in the connection's table. */
  readonly streaming = false;
  deadlineSlot: Set<Expirable> | undefined = undefined;
  readonly promise: Promise<UnaryResponse<O>>;
  private resolve!: (response: UnaryResponse<O>) => void;
  private reject!: (reason: DoraError) => void;
  private settled = false;
  private readonly output: O;
  private readonly signal: AbortSignal;

  constructor(
    private readonly owner: PendingCallOwner,
    private readonly connection: PendingCallConnection,
    readonly streamId: number,
    request: UnaryRequest<DescMessage, O>,
  ) {
    this.output = request.desc.output;
    this.signal = request.signal;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.signal !== NEVER_ABORTED) this.signal.addEventListener("abort", this);
  }

  /** Called by the caller's signal (this object is its listener). The caller aborted: fail at once with `Canceled`; a late answer is dropped (SPEC §3.2). */
  handleEvent(): void {
    this.connection.forget(this);
    this.fail(new DoraError(Code.Canceled, "the call was aborted"));
  }

  /** The deadline passed: fail at once with `DeadlineExceeded`; a late answer is dropped. */
  expire(): void {
    this.connection.forget(this);
    this.fail(new DoraError(Code.DeadlineExceeded, "deadline exceeded"));
  }

  /** Fails the call (no answer will come). */
  fail(error: DoraError): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
  }

  /** The answer arrived: its status, or its message decoded with the codec it names. */
  complete(frame: Buffer): void {
    if (this.settled) return;
    this.settle();
    let pkg;
    try {
      pkg = decodePkg(frame);
    } catch {
      this.reject(new DoraError(Code.Internal, "malformed response from the server"));
      return;
    }
    const meta = pkg.head?.meta;
    const error = statusFromMeta(meta);
    if (error !== undefined) {
      this.reject(error);
      return;
    }
    const serializeType = pkg.head?.serializeType ?? "";
    const config = this.owner.config;
    const codec = serializeType === config.codec.name ? config.codec : config.codecs.get(serializeType);
    if (codec === undefined) {
      this.reject(new DoraError(Code.Internal, `the server answered with unknown serialize_type ${JSON.stringify(serializeType)}`));
      return;
    }
    try {
      this.resolve({ stream: false, message: codec.decode(this.output, pkg.payload), meta: stripReserved(meta) });
    } catch (err) {
      this.reject(new DoraError(Code.Internal, `cannot decode ${this.output.typeName}: ${(err as Error).message}`));
    }
  }

  private settle(): void {
    this.settled = true;
    this.owner.wheel.remove(this);
    if (this.signal !== NEVER_ABORTED) this.signal.removeEventListener("abort", this);
  }
}
