import type { KvServiceClient, ReadSecureMessageResponse } from "@dora/tiger/kv/v1";
import { describeStatus, KvCode, statusCode } from "./business-status.js";
import { CommandFailure, describeCallError } from "./command-failure.js";
import { logIn } from "./log-in.js";
import type { Session } from "./session.js";

/** Where commands print their one line of result (stdout). */
export type LinePrinter = (line: string) => void;

/**
 * The use cases behind `login`, `read`, `write` and `watch` (SPEC §7). Each
 * prints its line (`watch`: one per value) and throws {@link CommandFailure}
 * when it fails.
 */
export class KvCommands {
  constructor(
    private readonly api: KvServiceClient,
    private readonly session: Session,
    private readonly print: LinePrinter,
  ) {}

  /** Logs in as the session's user; prints `login ok user=100`. */
  async login(password: string): Promise<void> {
    const refused = await logIn(this.api, this.session, password);
    if (refused !== undefined) throw new CommandFailure("login", refused.reason, { cause: refused.cause });
    this.print(`login ok user=${this.session.username}`);
  }

  /** Reads `key`; prints `read a = m`, or `read a: key does not exist` (not a failure). */
  async read(key: string): Promise<void> {
    let response: ReadSecureMessageResponse;
    try {
      response = await this.api.readSecureMessage({ key }, { meta: this.session.meta() });
    } catch (error) {
      throw new CommandFailure("read", describeCallError(error), { cause: error });
    }
    const code = statusCode(response.status);
    if (code === KvCode.KEY_NOT_EXIST) this.print(`read ${key}: key does not exist`);
    else if (code === KvCode.OK) this.print(`read ${key} = ${response.value}`);
    else throw new CommandFailure("read", describeStatus(response.status));
  }

  /**
   * Watches `key`: prints `watch a = m` for each value written to it, until
   * `count` values arrived (undefined: no limit) or `signal` aborts (the user
   * interrupted; not a failure). A watch the server ends is a failure: it
   * names the server's reason, or says the server ended it.
   */
  async watch(key: string, count: number | undefined, signal: AbortSignal): Promise<void> {
    let received = 0;
    try {
      // Leaving the loop (the count reached) cancels the stream on the server.
      for await (const message of this.api.watchSecureMessage({ key }, { meta: this.session.meta(), signal })) {
        this.print(`watch ${key} = ${message.value}`);
        if (++received === count) return;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw new CommandFailure("watch", describeCallError(error), { cause: error });
    }
    if (!signal.aborted) throw new CommandFailure("watch", "the server ended the watch");
  }

  /** Writes `key` = `value`; prints `write a = m`. */
  async write(key: string, value: string): Promise<void> {
    try {
      await this.api.writeSecureMessage({ key, value }, { meta: this.session.meta() });
    } catch (error) {
      throw new CommandFailure("write", describeCallError(error), { cause: error });
    }
    this.print(`write ${key} = ${value}`);
  }
}
