import { describe, expect, it } from "vitest";
import { LatencyRecorder } from "./latency-recorder.js";
import { buildReport, formatReport, formatReportJson, type BenchmarkMeasurement } from "./report.js";

function measurement(recorder: LatencyRecorder, overrides: Partial<BenchmarkMeasurement> = {}): BenchmarkMeasurement {
  return {
    concurrency: 4,
    requestsPerWorker: 25,
    success: recorder.totalCount,
    failure: 0,
    wallNs: 2_000_000_000,
    minNs: recorder.minNs,
    maxNs: recorder.maxNs,
    sumNs: recorder.sumNs,
    latencies: recorder,
    username: "100000",
    method: "read",
    key: "c",
    value: "a",
    ...overrides,
  };
}

describe("buildReport", () => {
  it("computes counts, QPS, RTs and the eight percentile lines from recorded latencies", () => {
    const recorder = new LatencyRecorder();
    // 10 ns, 20 ns, … 1000 ns: the p-th percentile is 10·p ns (HdrHistogram is exact below 2048).
    for (let i = 1; i <= 100; i++) recorder.record(i * 10);
    const report = buildReport(measurement(recorder, { success: 90, failure: 10 }));
    expect(report).toMatchObject({
      Concurrency: 4,
      requests: 25,
      Success: 90,
      Failure: 10,
      QPS: 50,
      MaxRT: "1µs",
      MinRT: "10ns",
      AvgRT: "505ns",
      Duration: "2s",
      username: "100000",
      method: "read",
      key: "c",
      value: "a",
    });
    expect(report.LatencySummary.Latencies).toEqual([
      " 50% : 500ns (cumulative count 50)",
      " 60% : 600ns (cumulative count 60)",
      " 70% : 700ns (cumulative count 70)",
      " 80% : 800ns (cumulative count 80)",
      " 90% : 900ns (cumulative count 90)",
      " 95% : 950ns (cumulative count 95)",
      " 99% : 990ns (cumulative count 99)",
      "100% : 1µs (cumulative count 100)",
    ]);
  });

  it("reports real percentiles, not cumulative means: one slow call shows only at p100", () => {
    const recorder = new LatencyRecorder();
    for (let i = 0; i < 999; i++) recorder.record(300);
    recorder.record(45_295_218);
    const report = buildReport(measurement(recorder));
    expect(report.LatencySummary.Latencies[6]).toBe(" 99% : 300ns (cumulative count 990)");
    expect(report.LatencySummary.Latencies[7]).toBe("100% : 45.295218ms (cumulative count 1000)");
    expect(report.MaxRT).toBe("45.295218ms");
    // Above 2048 ns the histogram keeps 3 significant digits: the value is within 0.1 %.
    const big = new LatencyRecorder();
    for (let i = 0; i < 100; i++) big.record(327_426);
    big.record(400_000);
    const p50 = buildReport(measurement(big)).LatencySummary.Latencies[0] ?? "";
    const micros = Number(/ 50% : ([\d.]+)µs/.exec(p50)?.[1]);
    expect(Math.abs(micros - 327.426) / 327.426).toBeLessThan(0.001);
    expect(report.MinRT).toBe("300ns");
  });

  it("rounds QPS to three decimals and uses wall time", () => {
    const recorder = new LatencyRecorder();
    for (let i = 0; i < 7; i++) recorder.record(1_000);
    const report = buildReport(measurement(recorder, { wallNs: 3_000_000_000 }));
    expect(report.QPS).toBe(2.333);
  });

  it("handles a run where nothing completed", () => {
    const recorder = new LatencyRecorder();
    const report = buildReport(measurement(recorder, { success: 0, failure: 0, wallNs: 0 }));
    expect(report).toMatchObject({ QPS: 0, MaxRT: "0s", MinRT: "0s", AvgRT: "0s", Duration: "0s" });
    expect(report.LatencySummary.Latencies[0]).toBe(" 50% : 0s (cumulative count 0)");
  });
});

describe("formatReport", () => {
  it("prints the heading then the indented JSON array of one object; --json is one line", () => {
    const recorder = new LatencyRecorder();
    recorder.record(1_500);
    const report = buildReport(measurement(recorder));
    const text = formatReport(report);
    expect(text.split("\n")[0]).toBe("Benchmark Report:");
    expect(JSON.parse(text.slice("Benchmark Report:\n".length))).toEqual([report]);
    expect(text).toContain('\n    "Concurrency": 4,\n');
    const line = formatReportJson(report);
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual(report);
    expect(Object.keys(report)).toEqual([
      "Concurrency", "requests", "Success", "Failure", "QPS", "MaxRT", "MinRT", "AvgRT", "Duration",
      "LatencySummary", "username", "method", "key", "value",
    ]);
  });
});
