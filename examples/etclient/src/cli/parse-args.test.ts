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

  it("parses watch with its key and --count, or no count (until interrupted)", async () => {
    expect(await run("watch", "-u", "7", "-p", "7", "-k", "b", "--count", "3")).toMatchObject({ kind: "watch", user: "7", password: "7", key: "b", size: 2000, count: 3 });
    expect(await run("watch")).toMatchObject({ kind: "watch", user: "1", key: "a", count: undefined });
    expect((await run("watch", "--size", "1")).size).toBe(1);
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
    expect(await run("benchmark", "read")).toMatchObject({ kind: "benchmark", requests: 1 });
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
    [["delete"], 'unknown command "delete" (expected login, read, write, watch or benchmark)'],
    [["login,delete"], 'unknown command "delete" (expected login, read, write, watch or benchmark)'],
    [["login,watch"], "watch cannot be composed"],
    [["watch", "--count", "0"], "--count must be an integer >= 1, got 0"],
    [["watch", "-v", "b"], "unknown argument: v"],
    [["watch", "-k", "1"], '--key must be one lowercase letter a-z, got "1"'],
    [["watch", "--count"], "--count needs a value"],
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
    [[], "missing command (expected login, read, write, watch or benchmark)"],
    [["login", "-u"], "-u (--user) needs a value"],
    [["login", "-u", "-p", "1"], "-u (--user) needs a value"],
    [["login", "--password"], "--password needs a value"],
    [["benchmark", "read", "-k"], "-k (--key) needs a value"],
    [["benchmark", "read", "-c", "--json"], "-c (--concurrency) needs a value"],
    [["read", "--address"], "--address needs a value"],
    [["read", "--timeout-ms"], "--timeout-ms needs a value"],
    [["write", "--size"], "--size needs a value"],
    [["login", "--config"], "--config needs a value"],
  ])("rejects %j naming the bad argument", async (args, message) => {
    expect(await usage(...args)).toContain(message);
  });

  it.each([
    [["login", "-u"], "login"],
    [["benchmark", "read", "-k"], "benchmark read"],
    [["benchmark", "delete"], "benchmark"],
    [["login,read", "-k", "1"], "login,read"],
    [["delete"], ""],
    [["watch", "--count", "x"], "watch"],
    [["-u", "100"], ""],
  ])("points %j to the help of %j", async (args, command) => {
    const outcome = await parseArgs(args);
    expect(outcome).toMatchObject({ kind: "usage-error", helpCommand: command });
  });

  it.each([[["--help"]], [["login", "--help"]], [["benchmark", "--help"]], [["benchmark", "write", "-h"]], [["login,read", "--help"]], [["read", "-k", "1", "--help"]]])(
    "prints help for %j",
    async (args) => {
      const outcome = await parseArgs(args);
      expect(outcome.kind).toBe("help");
      if (outcome.kind === "help") expect(outcome.text).toMatch(/^Usage|^etclient/);
    },
  );

  it("keeps help as short as the original's: every line fits 80 columns, and the root help points to each command's", async () => {
    const help = async (...args: string[]) => {
      const outcome = await parseArgs(args);
      if (outcome.kind !== "help") throw new Error(`expected help for ${args.join(" ")}`);
      return outcome.text.split("\n");
    };
    const root = await help("--help");
    expect(root.length).toBeLessThanOrEqual(14);
    expect(root[0]).toMatch(/^Usage: etclient /);
    expect(root[1]).toContain("etclient COMMAND --help");
    for (const args of [["--help"], ["login", "-h"], ["read", "-h"], ["write", "-h"], ["watch", "-h"], ["login,write,read", "-h"], ["benchmark", "-h"], ["benchmark", "read", "-h"], ["benchmark", "write", "-h"]]) {
      for (const line of await help(...args)) expect(line.length, `${args.join(" ")}: ${line}`).toBeLessThanOrEqual(80);
    }
    expect((await help("benchmark", "--help")).length).toBeLessThanOrEqual(10);
  });

  it.each([
    [["login", "--help"], ["--user", "--password"], 14],
    [["read", "--help"], ["--user", "--password", "--key", "--size"], 16],
    [["write", "--help"], ["--user", "--password", "--key", "--value", "--size"], 17],
    [["benchmark", "read", "--help"], ["--user", "--password", "--key", "--size", "--concurrency", "--requests", "--duration", "--json"], 20],
    [["watch", "--help"], ["--user", "--password", "--key", "--size", "--count"], 17],
  ])("%j lists the command's own options first, then the connection options under their own heading", async (args, own, maxLines) => {
    const outcome = await parseArgs(args);
    if (outcome.kind !== "help") throw new Error("expected help");
    const lines = outcome.text.split("\n");
    expect(lines.length).toBeLessThanOrEqual(maxLines);
    const heading = lines.indexOf("Connection options:");
    expect(heading).toBeGreaterThan(0);
    const flagsIn = (part: string[]) => part.flatMap((line) => /^\s+(?:-\w, )?(--[\w-]+)/.exec(line)?.[1] ?? []);
    expect(flagsIn(lines.slice(0, heading))).toEqual(own);
    expect(flagsIn(lines.slice(heading))).toEqual(["--address", "--tls", "--ca-file", "--cert-file", "--key-file", "--timeout-ms", "--bare-method-names", "--config"]);
    // Every option has its description on its own line (none is cut off or wrapped).
    for (const line of lines.filter((l) => /^\s+-/.test(l))) expect(line).toMatch(/^\s+(?:-\w, )?--[\w-]+(?: \S+)?\s{2,}\S.*\S$/);
  });

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
