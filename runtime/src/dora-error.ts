import { Code, codeName } from "./code.js";

/**
 * The one error type of dora. A call that fails rejects with a `DoraError`; a
 * handler that throws one sends its code and message to the client.
 *
 * `rawMessage` is the message as given; `message` is prefixed with the code
 * name (`"[Unauthenticated] no session"`) for logs and stack traces.
 */
export class DoraError extends Error {
  override name = "DoraError";
  /** The dora status code (SPEC §3.4). */
  readonly code: Code | number;
  /** The message without the code prefix; what travels in `dora-message`. */
  readonly rawMessage: string;
  /** Response metadata that came with the error (client side), or that the handler wants sent. */
  readonly metadata: Record<string, string>;

  constructor(code: Code | number, message = "", options?: { cause?: unknown; metadata?: Record<string, string> }) {
    super(message === "" ? `[${codeName(code)}]` : `[${codeName(code)}] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.metadata = options?.metadata ?? {};
  }

  /**
   * Wraps any thrown value. A `DoraError` is returned as is; an `AbortError`
   * becomes `Canceled`; anything else becomes `code` (default `Unknown`) with
   * the original kept as `cause`.
   */
  static from(reason: unknown, code: Code | number = Code.Unknown): DoraError {
    if (reason instanceof DoraError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError") return new DoraError(Code.Canceled, "the call was aborted", { cause: reason });
      if (reason.name === "TimeoutError") return new DoraError(Code.DeadlineExceeded, "the call timed out", { cause: reason });
      return new DoraError(code, reason.message, { cause: reason });
    }
    return new DoraError(code, String(reason), { cause: reason });
  }
}

/** True when `value` is a {@link DoraError}, optionally with the given code. */
export function isDoraError(value: unknown, code?: Code | number): value is DoraError {
  return value instanceof DoraError && (code === undefined || value.code === code);
}
