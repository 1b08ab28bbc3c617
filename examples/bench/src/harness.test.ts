import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import type { BenchReport } from "./report.js";
import { deleteKeysWithPrefix } from "./stores.js";

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
    for (const field of ["qps", "p50Us", "p99Us", "maxUs", "clientPeakRssMiB"] as const) {
      expect(runRecord[field], field).toBeGreaterThan(0);
    }
    // Client CPU per call is the measured client's CPU less its start-up's (a client making one call
    // per caller): with only 300 calls here that difference is within the start-up's own spread and
    // may come out as 0 (it is never negative), so only its presence is checked.
    expect(runRecord.clientCpuUsPerCall).toBeGreaterThanOrEqual(0);
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

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("npm run bench: dora-mysql-write (the machine's MySQL and Redis, a database and key prefix of this test's own)", () => {
  const tag = `${process.pid}_${randomBytes(3).toString("hex")}`;
  const database = `dora_bench_test_${tag}`;
  const prefix = `dora-bench-test-${tag}:`;
  const redisUrl = "redis://127.0.0.1:6379/0";
  const storeArgs = ["--mysql-url", `mysql://root@127.0.0.1:3306/${database}`, "--redis-prefix", prefix];

  afterAll(async () => {
    await deleteKeysWithPrefix(redisUrl, prefix);
    const connection = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    try {
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    } finally {
      await connection.end();
    }
  });

  it("seeds its database, measures writes next to dora's reads with the ratio of the round, and deletes its keys (old ones too)", async () => {
    const redis = new Redis(redisUrl);
    try {
      await redis.set(`${prefix}left-over`, "x");
      const dir = join(out, "mysql-write");
      const { stdout } = await run(process.execPath, [bin, "--quick", "--systems", "dora,dora-mysql-write", "--requests", "25", "--warmup", "0", ...storeArgs, "--out", dir], { timeout: 120_000 });
      const report = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchReport;

      expect(report.runs.map((r) => r.system)).toEqual(["dora", "dora-mysql-write"]);
      const [read, write] = report.runs;
      if (read === undefined || !read.ok || write === undefined || !write.ok) throw new Error(`a run failed: ${JSON.stringify(report.runs)}`);
      expect(write).toMatchObject({ system: "dora-mysql-write", calls: 300, failures: 0 });
      expect(write.serverCpuUsPerCall).toBeGreaterThan(0);
      const ratio = report.ratios.find((r) => r.name === "dora MySQL write / dora memory read, QPS");
      expect(ratio).toMatchObject({ target: "≥ 0.5", perRound: [write.qps / read.qps], median: write.qps / read.qps });
      expect(stdout).toMatch(/^\| dora-mysql-write \| [\d,]+ \|/m);
      expect(stdout).toMatch(/^\| dora MySQL write \/ dora memory read, QPS \| \d+\.\d\d \|/m);

      // Its config reached etserver: the accounts are in this test's database, and no key is left under its prefix.
      const connection = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database });
      try {
        const [rows] = await connection.query("SELECT COUNT(*) AS n FROM account");
        expect((rows as { n: number }[])[0]?.n).toBe(100_000);
      } finally {
        await connection.end();
      }
      const left: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== "0");
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it("is reported as skipped, with the reason, when Redis does not answer, and the other systems still run", async () => {
    const dir = join(out, "mysql-write-skipped");
    const port = await closedPort();
    await run(process.execPath, [bin, "--quick", "--systems", "raw,dora-mysql-write", "--requests", "25", "--warmup", "0", ...storeArgs, "--redis-url", `redis://127.0.0.1:${port}/0`, "--out", dir], {
      timeout: 60_000,
    });
    const report = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchReport;
    expect(report.runs.find((r) => r.system === "raw")).toMatchObject({ ok: true, calls: 300 });
    expect(report.runs.find((r) => r.system === "dora-mysql-write")).toMatchObject({ ok: false, skipped: true, error: `Redis at 127.0.0.1:${port} did not answer (ECONNREFUSED)` });
    expect(report.systems.find((s) => s.system === "dora-mysql-write")).toMatchObject({ runs: 0, errors: [], skipped: expect.stringContaining("did not answer") });
    expect(readFileSync(join(dir, "latest.md"), "utf8")).toMatch(/^\| dora-mysql-write \| skipped \|/m);
  });
});
