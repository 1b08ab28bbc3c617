import { DoraError, codeName } from "@dora/runtime";

/**
 * A command that failed: the CLI prints `message` as one line on stderr
 * (`read failed: Unauthenticated: invalid token`) and exits with 1.
 */
export class CommandFailure extends Error {
  override name = "CommandFailure";

  /**
   * @param command the command that failed (`login`, `read`, `write`, `benchmark`).
   * @param detail what went wrong: a dora code and message, or a business status.
   */
  constructor(
    readonly command: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${command} failed: ${detail}`, options);
  }
}

/**
 * One-line description of a call error: `Unauthenticated: invalid token` for
 * a {@link DoraError} (its code name, then its raw message), the message of
 * anything else. Never a stack trace.
 */
export function describeCallError(error: unknown): string {
  if (error instanceof DoraError) {
    const name = codeName(error.code);
    return error.rawMessage === "" ? name : `${name}: ${firstLine(error.rawMessage)}`;
  }
  if (error instanceof Error) return firstLine(error.message);
  return firstLine(String(error));
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}
