import { describe, expect, it } from "vitest";
import { parseArgs } from "./parse-args.js";

async function run(...args: string[]) {
  const outcome = await parseArgs(args);
  if (outcome.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(outcome)}`);
  return outcome.invocation;
}

async function usage(...args: string[]): Promise<string> {
  const outcome = await parseArgs(args);
  if (outcome.kind !== "usage-error") throw new Error(`expected a usage error, got ${JSON.stringify(outcome)}`);
  return outcome.message;
}

describe("parseArgs", () => {
  it("applies the SPEC §7 defaults", async () => {
    expect(await run("read")).toEqual({
      kind: "commands",
      commands: ["read"],
      user: "1",
      password: "1",
      key: "a",
      value: "a",
      size: 2000,
      connection: {
        address: undefined,
        tls: undefined,
        certFile: undefined,
        keyFile: undefined,
        caFile: undefined,
        timeoutMs: 5000,
        bareMethodNames: false,
        configFile: undefined,
      },
    });
  });

  it("splits composed commands in order and keeps usernames as strings", async () => {
    const invocation = await run("login,write,read", "-u", "100", "-p", "100", "-k", "b", "-v", "n");
    expect(invocation).toMatchObject({ kind: "commands", commands: ["login", "write", "read"], user: "100", password: "100", key: "b", value: "n" });
  });

  it("takes --size, the bytes of key and value on the wire, for read, write, composed commands and benchmarks", async () => {
    expect((await run("read", "--size", "10")).size).toBe(10);
    expect((await run("login,write", "--size", "61440")).size).toBe(61_440);
    expect((await run("benchmark", "write", "--size", "1")).size).toBe(1);
    expect((await run("benchmark", "read")).size).toBe(2000);
  });

  it("reads long flags and connection options", async () => {
    const invocation = await run("write", "--user", "7", "--password", "x", "--key", "z", "--value", "y", "--address", "[::1]:9000", "--tls", "--ca-file", "ca.pem", "--cert-file", "c.pem", "--key-file", "c.key", "--timeout-ms", "250", "--bare-method-names", "--config", "my.yaml");
    expect(invocation).toMatchObject({
      user: "7",
      password: "x",
      key: "z",
      value: "y",
      connection: { address: "[::1]:9000", tls: true, caFile: "ca.pem", certFile: "c.pem", keyFile: "c.key", timeoutMs: 250, bareMethodNames: true, configFile: "my.yaml" },
    });
    expect((await run("read", "--no-tls")).connection.tls).toBe(false);
  });

  it("parses benchmark read|write with its options", async () => {
    expect(await run("benchmark", "read", "-u", "100000", "-p", "100000", "-k", "c", "-c", "12", "-r", "1000")).toMatchObject({
      kind: "benchmark",
      method: "read",
      user: "100000",
      key: "c",
      concurrency: 12,
      requests: 1000,
      durationSeconds: undefined,
      json: false,
    });
    expect(await run("benchmark", "write", "-v", "q", "--duration", "1.5", "--json")).toMatchObject({
      method: "write",
      value: "q",
      concurrency: 1,
      requests: undefined,
      durationSeconds: 1.5,
      json: true,
    });
    expect((await run("benchmark", "read")).requests).toBe(1);
  });

  it.each([
    [["read", "-k", "1"], "--key must be one lowercase letter a-z, got \"1\""],
    [["read", "-k", "ab"], "--key must be one lowercase letter a-z, got \"ab\""],
    [["write", "-v", "A"], "--value must be one lowercase letter a-z, got \"A\""],
    [["benchmark", "read", "-c", "0"], "--concurrency must be an integer from 1 to 100000, got 0"],
    [["benchmark", "read", "-c", "x"], "--concurrency must be an integer from 1 to 100000, got a value that is not a number"],
    [["benchmark", "read", "-r", "1.5"], "--requests must be an integer >= 1, got 1.5"],
    [["benchmark", "read", "--duration", "0"], "--duration must be a number of seconds > 0 and <= 86400, got 0"],
    [["benchmark", "read", "-r", "5", "--duration", "2"], "--requests and --duration cannot be used together"],
    [["benchmark", "delete"], 'unknown benchmark method "delete" (expected read or write)'],
    [["benchmark"], "benchmark needs a method: read or write"],
    [["delete"], 'unknown command "delete" (expected login, read, write or benchmark)'],
    [["login,delete"], 'unknown command "delete" (expected login, read, write or benchmark)'],
    [["login,,read"], 'empty command in "login,,read"'],
    [["login,benchmark"], "benchmark cannot be composed"],
    [["login", "--bogus"], "unknown argument: bogus"],
    [["login", "-k", "a"], "unknown argument: k"],
    [["read", "--address", "localhost"], '--address must be HOST:PORT with a port from 1 to 65535, got "localhost"'],
    [["read", "--timeout-ms", "0"], "--timeout-ms must be an integer from 1 to 2147483647, got 0"],
    [["read", "--size", "0"], "--size must be an integer from 1 to 61440, got 0"],
    [["write", "--size", "61441"], "--size must be an integer from 1 to 61440, got 61441"],
    [["login", "--size", "5"], "unknown argument: size"],
    [["read", "-u", ""], "--user must not be empty"],
    [[], "Not enough non-option arguments"],
  ])("rejects %j naming the bad argument", async (args, message) => {
    expect(await usage(...args)).toContain(message);
  });

  it.each([[["--help"]], [["login", "--help"]], [["benchmark", "--help"]], [["benchmark", "write", "-h"]], [["login,read", "--help"]], [["read", "-k", "1", "--help"]]])(
    "prints help for %j",
    async (args) => {
      const outcome = await parseArgs(args);
      expect(outcome.kind).toBe("help");
      if (outcome.kind === "help") expect(outcome.text).toMatch(/^Usage|^etclient/);
    },
  );

  it("shows the benchmark options only under benchmark", async () => {
    const root = await parseArgs(["--help"]);
    const bench = await parseArgs(["benchmark", "write", "--help"]);
    if (root.kind !== "help" || bench.kind !== "help") throw new Error("expected help");
    expect(root.text).toContain("benchmark");
    expect(root.text).not.toContain("--concurrency");
    expect(bench.text).toContain("--concurrency");
    expect(bench.text).toContain("--value");
  });
});
