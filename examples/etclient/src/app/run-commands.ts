import type { KvCommands } from "./kv-commands.js";

/** The single-call commands that can be composed with commas (`login,write,read`). */
export type KvCommandName = "login" | "read" | "write";

/** What the commands need besides the session's username. */
export interface CommandArguments {
  /** Password for `login`. */
  readonly password: string;
  /** Key letter for `read` and `write`. */
  readonly key: string;
  /** Value letter for `write`. */
  readonly value: string;
}

/**
 * Runs composed commands left to right on one session and stops at the first
 * failure (its {@link CommandFailure} propagates) — SPEC §7.
 */
export async function runCommands(commands: readonly KvCommandName[], args: CommandArguments, kv: KvCommands): Promise<void> {
  for (const command of commands) {
    switch (command) {
      case "login":
        await kv.login(args.password);
        break;
      case "read":
        await kv.read(args.key);
        break;
      case "write":
        await kv.write(args.key, args.value);
        break;
    }
  }
}
