import { describe, expect, it } from "vitest";
import { noProgress } from "./benchmark/progress.js";
import { ExitCode, failureSummary, main, type MainIo } from "./main.js";

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: MainIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    progress: () => noProgress,
    env,
    cwd: process.cwd(),
    executableDir: "/nonexistent",
  };
  return { out, err, io: value };
}

describe("main", () => {
  it("prints help on stdout and exits 0", async () => {
    const t = io();
    expect(await main(["--help"], t.io)).toBe(ExitCode.Ok);
    expect(t.out.join("\n")).toContain("Usage: etclient COMMAND[,COMMAND...] [options]");
    expect(t.err).toEqual([]);
  });

  it("prints a usage error on one stderr line and exits 2", async () => {
    const t = io();
    expect(await main(["read", "-k", "1"], t.io)).toBe(ExitCode.Usage);
    expect(t.err).toEqual([`etclient: --key must be one lowercase letter a-z, got "1" (see 'etclient read --help')`]);
    expect(t.out).toEqual([]);
  });

  it("names a flag given without its value, and exits 2", async () => {
    const t = io();
    expect(await main(["login", "-u"], t.io)).toBe(ExitCode.Usage);
    expect(t.err).toEqual([`etclient: -u (--user) needs a value (see 'etclient login --help')`]);
  });

  it("reports a configuration error on one line and exits 1 before connecting", async () => {
    const t = io({ ETCLIENT_ADDRESS: "not-an-address" });
    expect(await main(["login"], t.io)).toBe(ExitCode.Failure);
    expect(t.err).toEqual(['etclient: ETCLIENT_ADDRESS: expected HOST:PORT with a port from 1 to 65535, got "not-an-address"']);
  });
});

describe("failureSummary", () => {
  it("lists the most frequent causes first, at most five", () => {
    const tally = new Map([
      ["DeadlineExceeded: the call timed out", 2],
      ["Unavailable: rate limit", 10],
    ]);
    expect(failureSummary(12, tally)).toBe("benchmark: 12 calls failed: Unavailable: rate limit (10), DeadlineExceeded: the call timed out (2)");
    const many = new Map(Array.from({ length: 7 }, (_, i) => [`cause ${i}`, 7 - i] as const));
    expect(failureSummary(28, many)).toBe("benchmark: 28 calls failed: cause 0 (7), cause 1 (6), cause 2 (5), cause 3 (4), cause 4 (3), 2 more");
    expect(failureSummary(1, new Map([["x", 1]]))).toBe("benchmark: 1 call failed: x (1)");
  });
});
