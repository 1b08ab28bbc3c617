import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchReport } from "./report.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../bin/bench.js", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "dora-bench-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run bench (quick mode, raw bound only)", () => {
  it("runs the raw bound end to end and writes the JSON and markdown results with every figure", async () => {
    const { stdout } = await run(process.execPath, [bin, "--quick", "--systems", "raw", "--requests", "25", "--warmup", "0", "--out", out], { timeout: 60_000 });
    const report = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchReport;

    expect(report).toMatchObject({ completedRuns: 1, plannedRuns: 1 });
    expect(report.finishedAt).not.toBeNull();
    expect(report.settings).toMatchObject({ rounds: 1, concurrency: 12, requestsPerCaller: 25, sizeBytes: 2000, warmupSeconds: 0 });
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);

    expect(report.runs).toHaveLength(1);
    const [runRecord] = report.runs;
    if (runRecord === undefined || !runRecord.ok) throw new Error(`raw run failed: ${JSON.stringify(runRecord)}`);
    expect(runRecord).toMatchObject({ system: "raw", round: 1, calls: 300, failures: 0 });
    for (const field of ["qps", "p50Us", "p99Us", "maxUs", "clientCpuUsPerCall", "clientPeakRssMiB"] as const) {
      expect(runRecord[field], field).toBeGreaterThan(0);
    }
    expect(runRecord.p50Us).toBeLessThanOrEqual(runRecord.p99Us);
    // Percentiles come from an HdrHistogram with 3 significant digits (a bucket's top may pass the exact max by 0.1 %).
    expect(runRecord.p99Us).toBeLessThanOrEqual(runRecord.maxUs * 1.001);
    if (process.platform === "linux") {
      expect(runRecord.serverCpuUsPerCall).toBeGreaterThanOrEqual(0);
      expect(runRecord.serverPeakRssMiB).toBeGreaterThan(0);
    }

    expect(report.systems).toEqual([expect.objectContaining({ system: "raw", group: "raw", runs: 1, calls: 300, failures: 0, qps: runRecord.qps })]);
    expect(report.ratios.map((r) => r.name)).toContain("dora / raw, QPS");

    const markdown = readFileSync(join(out, "latest.md"), "utf8");
    expect(markdown).toContain("| system | QPS |");
    expect(markdown).not.toContain("Incomplete");
    expect(markdown).toMatch(/^\| raw \| [\d,]+ \|/m);
    expect(stdout).toContain("| raw |");
  });

  it("runs grpc-js server streaming end to end, counting every message of streams cut to --messages-per-stream", async () => {
    const dir = join(out, "stream");
    await run(process.execPath, [bin, "--quick", "--systems", "grpc-js-stream", "--requests", "30", "--messages-per-stream", "7", "--warmup", "0", "--out", dir], { timeout: 60_000 });
    const report = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchReport;
    const [runRecord] = report.runs;
    if (runRecord === undefined || !runRecord.ok) throw new Error(`grpc-js-stream run failed: ${JSON.stringify(runRecord)}`);
    // 12 callers × 30 messages, each caller over streams of 7, 7, 7, 7 and 2 messages.
    expect(runRecord).toMatchObject({ system: "grpc-js-stream", calls: 360, failures: 0 });
    expect(runRecord.p50Us).toBeGreaterThan(0);
    expect(report.settings).toMatchObject({ messagesPerStream: 7 });
    expect(readFileSync(join(dir, "latest.md"), "utf8")).toContain("streams of 7 messages");
  });

  it("rejects an unknown system by name, with exit code 2", async () => {
    await expect(run(process.execPath, [bin, "--systems", "nope", "--out", out])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown system or group "nope"') });
  });
});
