import { describe, expect, it } from "vitest";
import { createConsoleLogger, parseLogLevel, silentLogger } from "./logger.js";

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s) } };
}

describe("logger", () => {
  it("writes one line per record with time, level, message and JSON fields", () => {
    const { lines, stream } = capture();
    const log = createConsoleLogger({ level: "debug", stream });
    log.info("server listening", { port: 7000 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO server listening \{"port":7000\}\n$/);
  });

  it("drops records below the configured level", () => {
    const { lines, stream } = capture();
    const log = createConsoleLogger({ level: "warn", stream });
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["WARN", "ERROR"]);
  });

  it("serializes errors as name, message and code without the stack", () => {
    const { lines, stream } = capture();
    const err = Object.assign(new TypeError("boom"), { code: "E_X" });
    createConsoleLogger({ stream }).error("failed", { error: err });
    const json = JSON.parse(lines[0]!.slice(lines[0]!.indexOf("{")));
    expect(json).toEqual({ error: { name: "TypeError", message: "boom", code: "E_X" } });
  });

  it("survives fields that cannot be serialized", () => {
    const { lines, stream } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    createConsoleLogger({ stream }).info("odd", cyclic);
    expect(lines[0]).toContain("unserializable");
  });

  it("parses level names and names a bad one", () => {
    expect(parseLogLevel("WARN")).toBe("warn");
    expect(parseLogLevel(" silent ")).toBe("silent");
    expect(() => parseLogLevel("loud")).toThrow(/invalid log level "loud".*debug, info, warn, error, silent/);
  });

  it("silent logger writes nothing and is frozen", () => {
    expect(() => silentLogger.error("x", { a: 1 })).not.toThrow();
    expect(Object.isFrozen(silentLogger)).toBe(true);
  });
});
