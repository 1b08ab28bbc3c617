import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BENCHMARK_SEMI_SPACE_MB, runBenchmarkThread, semiSpaceSetBy, type BenchmarkThreadData } from "./benchmark-thread.js";
import type { BenchmarkInvocation } from "../cli/invocation.js";
import type { Progress } from "./progress.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-thread-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A worker module standing in for benchmark-thread-main.js. */
function fixture(name: string, body: string): URL {
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, `import { parentPort, workerData } from "node:worker_threads";\nimport { getHeapSpaceStatistics } from "node:v8";\nconst post = (m) => parentPort.postMessage(m);\n${body}\n`);
  return pathToFileURL(file);
}

const invocation: BenchmarkInvocation = {
  kind: "benchmark",
  method: "read",
  user: "100000",
  password: "100000",
  key: "c",
  value: "a",
  size: 2000,
  concurrency: 12,
  requests: 100,
  durationSeconds: undefined,
  json: true,
  connection: { address: "127.0.0.1:1", tls: undefined, certFile: undefined, keyFile: undefined, caFile: undefined, timeoutMs: 5000, bareMethodNames: false, configFile: undefined },
};
const data: BenchmarkThreadData = { invocation, env: { A: "1" }, cwd: "/w", executableDir: "/x", showProgress: true };

function host() {
  const events: string[] = [];
  const progress = (unit: "requests" | "ms"): Progress => {
    events.push(`progress(${unit})`);
    return { start: (total) => events.push(`start ${total}`), update: (value) => events.push(`update ${value}`), stop: () => events.push("stop") };
  };
  return { events, host: { out: (line: string) => events.push(`out ${line}`), err: (line: string) => events.push(`err ${line}`), progress } };
}

describe("runBenchmarkThread", () => {
  it("runs the benchmark in a thread whose new space starts at BENCHMARK_SEMI_SPACE_MB MiB (V8's default starts smaller and grows)", async () => {
    const entry = fixture("heap", `post({ kind: "out", line: String(getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size) }); post({ kind: "done", code: 0 });`);
    const t = host();
    expect(await runBenchmarkThread(entry, data, t.host, [])).toBe(0);
    expect(t.events).toHaveLength(1);
    expect(Number(t.events[0]!.slice("out ".length))).toBeGreaterThanOrEqual(BENCHMARK_SEMI_SPACE_MB * 1024 * 1024);
  });

  it("hands the thread the parsed benchmark and the surroundings, relays its lines and progress in order, and resolves with the code it posts", async () => {
    const entry = fixture(
      "relay",
      `const d = workerData;
post({ kind: "out", line: d.invocation.method + " " + d.invocation.concurrency + " " + d.invocation.connection.address + " " + d.env.A + " " + d.cwd + " " + d.executableDir + " " + d.showProgress });
post({ kind: "progress-start", unit: "ms", total: 500 });
post({ kind: "progress-update", value: 100 });
post({ kind: "err", line: "benchmark: 2 calls failed" });
post({ kind: "progress-update", value: 500 });
post({ kind: "progress-stop" });
post({ kind: "out", line: "report" });
post({ kind: "done", code: 1 });`,
    );
    const t = host();
    expect(await runBenchmarkThread(entry, data, t.host, [])).toBe(1);
    expect(t.events).toEqual(["out read 12 127.0.0.1:1 1 /w /x true", "progress(ms)", "start 500", "update 100", "err benchmark: 2 calls failed", "update 500", "stop", "out report"]);
  });

  it("answers 1 with one 'unexpected error' line when the thread throws", async () => {
    const entry = fixture("throws", `post({ kind: "out", line: "partial" });\nthrow new Error("boom\\nat somewhere");`);
    const t = host();
    expect(await runBenchmarkThread(entry, data, t.host, [])).toBe(1);
    expect(t.events).toEqual(["out partial", "err etclient: unexpected error: boom"]);
  });

  it("answers 1 with one line when the thread ends without posting a result", async () => {
    const entry = fixture("silent", `post({ kind: "out", line: "partial" });`);
    const t = host();
    expect(await runBenchmarkThread(entry, data, t.host, [])).toBe(1);
    expect(t.events).toEqual(["out partial", "err etclient: unexpected error: the benchmark thread ended without a result"]);
  });
});

describe("semiSpaceSetBy", () => {
  it("leaves the heap as the user sized it with node --min-semi-space-size or --max-semi-space-size", () => {
    expect(semiSpaceSetBy(["--max-semi-space-size=64"])).toBe(true);
    expect(semiSpaceSetBy(["--min_semi_space_size=4"])).toBe(true);
    expect(semiSpaceSetBy(["--max-semi-space-size", "64"])).toBe(true);
    expect(semiSpaceSetBy(["--max-old-space-size=4096", "--enable-source-maps"])).toBe(false);
    expect(semiSpaceSetBy([])).toBe(false);
  });
});
