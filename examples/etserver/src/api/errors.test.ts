import { Code, DoraError, type LogFields, type Logger } from "@dora/runtime";
import { describe, expect, it } from "vitest";
import { CallOutOfTimeError, StoreUnavailableError } from "../domain/errors.js";
import { STORE_UNAVAILABLE_MESSAGE, toDoraError } from "./errors.js";

/** A logger that keeps each line's level and message. */
function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields: LogFields | undefined }> } {
  const lines: Array<{ level: string; msg: string; fields: LogFields | undefined }> = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

describe("toDoraError's logging of store failures", () => {
  it("logs a store failure at warn and sends Unavailable without its details", () => {
    const logger = recordingLogger();
    const mapped = toDoraError(new StoreUnavailableError("value store failed", { cause: new Error("ECONNREFUSED 127.0.0.1:6379") }), logger, "ReadSecureMessage");
    expect(mapped).toBeInstanceOf(DoraError);
    expect((mapped as DoraError).code).toBe(Code.Unavailable);
    expect((mapped as DoraError).rawMessage).toBe(STORE_UNAVAILABLE_MESSAGE);
    expect(logger.lines.map((l) => l.level)).toEqual(["warn"]);
  });

  it("logs a call its own deadline cut short at debug only, so a client's 1 ms dora-timeout cannot fill the warn log", () => {
    const logger = recordingLogger();
    for (let i = 0; i < 1000; i++) {
      const mapped = toDoraError(new CallOutOfTimeError("value store: store did not answer within 1 ms"), logger, "ReadSecureMessage");
      expect((mapped as DoraError).code).toBe(Code.Unavailable);
      expect((mapped as DoraError).rawMessage).toBe(STORE_UNAVAILABLE_MESSAGE);
    }
    expect(logger.lines.filter((l) => l.level !== "debug")).toEqual([]);
    expect(logger.lines).toHaveLength(1000);
  });
});
