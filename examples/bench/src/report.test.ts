import { describe, expect, it } from "vitest";
import { parseGoDurationUs } from "./go-duration.js";
import { median, ratios, summarize, toMarkdown, type BenchReport, type RunRecord } from "./report.js";
import { parseEtclientReport } from "./systems.js";
import type { Measurement } from "./systems.js";

describe("parseGoDurationUs", () => {
  it("reads the durations Go's time.Duration prints, in µs", () => {
    expect(parseGoDurationUs("433.66µs")).toBeCloseTo(433.66);
    expect(parseGoDurationUs("45.295218ms")).toBeCloseTo(45_295.218);
    expect(parseGoDurationUs("4.345747431s")).toBeCloseTo(4_345_747.431);
    expect(parseGoDurationUs("1m2.5s")).toBeCloseTo(62_500_000);
    expect(parseGoDurationUs("850ns")).toBeCloseTo(0.85);
    expect(parseGoDurationUs("0s")).toBe(0);
  });

  it("rejects text that is not a duration", () => {
    expect(() => parseGoDurationUs("12")).toThrow(/not a Go duration/);
    expect(() => parseGoDurationUs("3ms and more")).toThrow(/not a Go duration/);
  });
});

describe("parseEtclientReport", () => {
  it("takes calls, QPS, p50, p99 and max from etclient's --json report", () => {
    const line = JSON.stringify({
      Concurrency: 12,
      requests: 10000,
      Success: 119_990,
      Failure: 10,
      QPS: 15_123.4,
      MaxRT: "12.5ms",
      MinRT: "95.011µs",
      AvgRT: "790µs",
      Duration: "7.935s",
      LatencySummary: {
        Latencies: [" 50% : 700.5µs (cumulative count 60000)", " 99% : 2.1ms (cumulative count 118800)", "100% : 12.5ms (cumulative count 120000)"],
      },
      username: "100000",
      method: "read",
      key: "c",
      value: "c",
    });
    expect(parseEtclientReport(`progress noise\n${line}\n`)).toEqual({
      calls: 120_000,
      success: 119_990,
      failure: 10,
      wallSeconds: 7.935,
      qps: 15_123.4,
      p50Us: 700.5,
      p99Us: 2100,
      maxUs: 12_500,
    });
  });

  it("says so when the output has no report", () => {
    expect(() => parseEtclientReport("login failed: incorrect username or password\n")).toThrow(/no JSON result/);
  });
});

const measurement = (qps: number, p99Us: number, cpu: number): Measurement => ({
  calls: 120_000,
  failures: 0,
  qps,
  p50Us: p99Us / 2,
  p99Us,
  maxUs: p99Us * 2,
  serverCpuUsPerCall: cpu / 2,
  clientCpuUsPerCall: cpu / 2,
  serverPeakRssMiB: 80,
  clientPeakRssMiB: 90,
});

describe("summaries and ratios", () => {
  const systems = [
    { id: "dora", label: "dora", group: "dora" as const },
    { id: "raw", label: "raw", group: "raw" as const },
    { id: "grpc-js-1", label: "g1", group: "grpc-js" as const },
    { id: "grpc-js-12", label: "g12", group: "grpc-js" as const },
  ];
  const runs: RunRecord[] = [
    { system: "dora", round: 1, ok: true, ...measurement(20_000, 1000, 100) },
    { system: "raw", round: 1, ok: true, ...measurement(40_000, 500, 40) },
    { system: "grpc-js-1", round: 1, ok: true, ...measurement(4_000, 5000, 300) },
    { system: "grpc-js-12", round: 1, ok: true, ...measurement(5_000, 4000, 280) },
    { system: "dora", round: 2, ok: true, ...measurement(30_000, 800, 90) },
    { system: "raw", round: 2, ok: false, error: "server exited" },
    { system: "grpc-js-1", round: 2, ok: true, ...measurement(3_000, 6000, 310) },
    { system: "grpc-js-12", round: 2, ok: true, ...measurement(6_000, 3000, 270) },
  ];

  it("takes the median of each figure over the rounds that worked and keeps the errors", () => {
    const [dora, raw] = summarize(systems, runs);
    expect(dora).toMatchObject({ runs: 2, qps: 25_000, qpsMin: 20_000, qpsMax: 30_000, p99Us: 900, errors: [] });
    expect(raw).toMatchObject({ runs: 1, qps: 40_000, errors: ["round 2: server exited"] });
    expect(median([3, null, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
  });

  it("compares dora with the best variant of a family in the same round, and skips rounds without both", () => {
    const byName = Object.fromEntries(ratios(systems, runs, 2).map((r) => [r.name, r]));
    expect(byName["dora / grpc-js, QPS"]).toMatchObject({ perRound: [4, 5], median: 4.5, met: false });
    expect(byName["dora / raw, QPS"]).toMatchObject({ perRound: [0.5, null], median: 0.5, met: false });
    expect(byName["dora / raw, p99"]).toMatchObject({ perRound: [2, null], met: false });
    expect(byName["dora / raw, CPU per call"]).toMatchObject({ perRound: [2.5, null], met: false });
    expect(byName["dora / Connect, QPS"]).toMatchObject({ perRound: [null, null], median: null, met: null });
  });

  it("compares dora with the --baseline build round by round, only when a baseline ran", () => {
    const withBaseline = [...systems, { id: "dora-baseline", label: "before", group: "dora-baseline" as const }];
    const baselineRuns: RunRecord[] = [
      ...runs,
      { system: "dora-baseline", round: 1, ok: true, ...measurement(10_000, 2000, 200) },
      { system: "dora-baseline", round: 2, ok: true, ...measurement(20_000, 1600, 180) },
    ];
    const byName = Object.fromEntries(ratios(withBaseline, baselineRuns, 2).map((r) => [r.name, r]));
    expect(byName["dora / dora-baseline, QPS"]).toMatchObject({ perRound: [2, 1.5], median: 1.75, met: null });
    expect(byName["dora / dora-baseline, CPU per call"]).toMatchObject({ perRound: [0.5, 0.5], median: 0.5, met: null });
    expect(ratios(systems, runs, 2).map((r) => r.name)).not.toContain("dora / dora-baseline, QPS");
  });

  it("holds the MySQL store's writes against the same round's memory-store reads (target 0.5), median over the rounds", () => {
    const withWrites = [...systems, { id: "dora-mysql-write", label: "w", group: "dora-mysql-write" as const }];
    const writeRuns: RunRecord[] = [
      ...runs,
      { system: "dora-mysql-write", round: 1, ok: true, ...measurement(8_000, 3000, 400) },
      { system: "dora-mysql-write", round: 2, ok: true, ...measurement(18_000, 2000, 380) },
    ];
    const byName = Object.fromEntries(ratios(withWrites, writeRuns, 2).map((r) => [r.name, r]));
    // Round 1: 8,000 / 20,000; round 2: 18,000 / 30,000; median of 0.4 and 0.6.
    expect(byName["dora MySQL write / dora memory read, QPS"]).toMatchObject({ target: "≥ 0.5", perRound: [0.4, 0.6], met: true });
    expect(byName["dora MySQL write / dora memory read, QPS"]!.median).toBeCloseTo(0.5);
    const oneRound = Object.fromEntries(ratios(withWrites, writeRuns.filter((r) => !(r.system === "dora-mysql-write" && r.round === 2)), 2).map((r) => [r.name, r]));
    expect(oneRound["dora MySQL write / dora memory read, QPS"]).toMatchObject({ perRound: [0.4, null], median: 0.4, met: false });
  });

  it("reports a skipped system with its reason, apart from failed runs", () => {
    const withWrites = [...systems, { id: "dora-mysql-write", label: "w", group: "dora-mysql-write" as const }];
    const skippedRuns: RunRecord[] = [
      ...runs,
      { system: "dora-mysql-write", round: 1, ok: false, skipped: true, error: "Redis at 127.0.0.1:6379 did not answer (ECONNREFUSED)" },
      { system: "dora-mysql-write", round: 2, ok: false, skipped: true, error: "Redis at 127.0.0.1:6379 did not answer (ECONNREFUSED)" },
    ];
    const summaries = summarize(withWrites, skippedRuns);
    expect(summaries.find((s) => s.system === "dora-mysql-write")).toMatchObject({ runs: 0, errors: [], skipped: "Redis at 127.0.0.1:6379 did not answer (ECONNREFUSED)" });
    expect(summaries.find((s) => s.system === "raw")).toMatchObject({ skipped: null, errors: ["round 2: server exited"] });
    const markdown = toMarkdown({
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:10:00.000Z",
      completedRuns: 10,
      plannedRuns: 10,
      machine: { cpus: 2, cpuModel: "test cpu", node: "v20.0.0", platform: "linux x64", loadAverageAtStart: 0.5 },
      settings: { rounds: 2, concurrency: 12, requestsPerCaller: 10, messagesPerStream: 1000, warmupSeconds: 0, sizeBytes: 2000, runtimeBenchSeconds: 1, username: "100000", password: "100000", letter: "c" },
      systems: summaries,
      ratios: ratios(withWrites, skippedRuns, 2),
      runs: skippedRuns,
    });
    expect(markdown).toMatch(/^\| dora-mysql-write \| skipped \|/m);
    expect(markdown).toContain("Skipped systems:\n- `dora-mysql-write`: Redis at 127.0.0.1:6379 did not answer (ECONNREFUSED)");
    expect(markdown).toMatch(/^\| dora MySQL write \/ dora memory read, QPS \| — \| —, — \| ≥ 0\.5 \| {2}\|$/m);
    expect(markdown).toContain("`dora-mysql-write` makes the same calls with WriteSecureMessage");
    expect(markdown).not.toMatch(/`dora-mysql-write` round/);
  });

  it("compares dora's server streaming with grpc-js's in messages per second and p99 per message", () => {
    const streaming = [
      { id: "dora-stream", label: "d", group: "dora-stream" as const },
      { id: "grpc-js-stream", label: "g", group: "grpc-js-stream" as const },
    ];
    const streamRuns: RunRecord[] = [
      { system: "dora-stream", round: 1, ok: true, ...measurement(90_000, 200, 10) },
      { system: "grpc-js-stream", round: 1, ok: true, ...measurement(30_000, 800, 30) },
    ];
    const byName = Object.fromEntries(ratios(streaming, streamRuns, 1).map((r) => [r.name, r]));
    expect(byName["dora / grpc-js, server-streaming messages/s"]).toMatchObject({ perRound: [3], median: 3, met: null });
    expect(byName["dora / grpc-js, server-streaming p99 per message"]).toMatchObject({ perRound: [0.25], median: 0.25, met: null });
  });
});

describe("toMarkdown", () => {
  it("marks a report written before its last run as incomplete, and a finished one not", () => {
    const base: BenchReport = {
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: null,
      completedRuns: 1,
      plannedRuns: 4,
      machine: { cpus: 2, cpuModel: "test cpu", node: "v20.0.0", platform: "linux x64", loadAverageAtStart: 0.5 },
      settings: { rounds: 2, concurrency: 12, requestsPerCaller: 10, messagesPerStream: 1000, warmupSeconds: 0, sizeBytes: 2000, runtimeBenchSeconds: 1, username: "100000", password: "100000", letter: "c" },
      systems: summarize([{ id: "raw", label: "raw", group: "raw" }], [{ system: "raw", round: 1, ok: true, ...measurement(40_000, 500, 40) }]),
      ratios: [],
      runs: [],
    };
    expect(toMarkdown(base)).toContain("**Incomplete: 1 of 4 runs so far**");
    const done = toMarkdown({ ...base, finishedAt: "2026-01-01T00:10:00.000Z", completedRuns: 4 });
    expect(done).not.toContain("Incomplete");
    expect(done).toMatch(/^\| raw \| 40,000 \| 40,000–40,000 \| 250 \| 500 \| 1,000 \| 20\.0 \| 20\.0 \| 80 \| 90 \| 120,000 \| 0 \|$/m);
    expect(done).not.toContain("Streaming");
    expect(done).toContain("Workload: ReadSecureMessage, 2000-byte key and value");
  });

  it("says what the streaming rows measure when the report has any", () => {
    const report: BenchReport = {
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:10:00.000Z",
      completedRuns: 1,
      plannedRuns: 1,
      machine: { cpus: 2, cpuModel: "test cpu", node: "v20.0.0", platform: "linux x64", loadAverageAtStart: 0.5 },
      settings: { rounds: 1, concurrency: 12, requestsPerCaller: 10, messagesPerStream: 500, warmupSeconds: 0, sizeBytes: 2000, runtimeBenchSeconds: 1, username: "100000", password: "100000", letter: "c" },
      systems: summarize([{ id: "grpc-js-stream", label: "g", group: "grpc-js-stream" }], [{ system: "grpc-js-stream", round: 1, ok: true, ...measurement(50_000, 300, 10) }]),
      ratios: [],
      runs: [],
    };
    const markdown = toMarkdown(report);
    expect(markdown).toContain("Streaming (`*-stream` rows): server-streaming WatchSecureMessage, streams of 500 messages");
    expect(markdown).toContain("QPS is messages per second");
    expect(markdown).not.toContain("Workload: ReadSecureMessage");
    expect(markdown).toMatch(/^\| grpc-js-stream \| 50,000 \|/m);
  });
});
