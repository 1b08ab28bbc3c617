import { formatGoDuration } from "./go-duration.js";

/** The percentiles the report lists, in order (SPEC §7). */
export const REPORT_PERCENTILES = [50, 60, 70, 80, 90, 95, 99, 100] as const;

/** Which rpc a benchmark measures. */
export type BenchmarkMethod = "read" | "write";

/** A latency distribution the report can query (an HdrHistogram in practice). */
export interface LatencyDistribution {
  /** Number of recorded latencies. */
  readonly totalCount: number;
  /** Latency in nanoseconds at or below which `percentile` % of the recorded latencies lie. */
  valueAtPercentile(percentile: number): number;
}

/** What a benchmark run measured; the input of {@link buildReport}. */
export interface BenchmarkMeasurement {
  /** Number of workers. */
  readonly concurrency: number;
  /** Requests per worker: the `-r` value, or the mean issued per worker in a `--duration` run. */
  readonly requestsPerWorker: number;
  /** Calls answered with dora status Ok. */
  readonly success: number;
  /** Every other outcome (a dora error, a timeout, a dropped connection). */
  readonly failure: number;
  /** Wall time of the measured phase, in nanoseconds. */
  readonly wallNs: number;
  /** Fastest completed call, in nanoseconds (0 when none completed). */
  readonly minNs: number;
  /** Slowest completed call, in nanoseconds (0 when none completed). */
  readonly maxNs: number;
  /** Sum of all completed calls' latencies, in nanoseconds. */
  readonly sumNs: number;
  /** Latencies of all completed calls. */
  readonly latencies: LatencyDistribution;
  /** The username in the report: `--user`, or the first worker user when each worker logged in alone. */
  readonly username: string;
  readonly method: BenchmarkMethod;
  /** The key letter. */
  readonly key: string;
  /** The value letter (written by a write benchmark; reported for read too, like the original). */
  readonly value: string;
}

/**
 * The report object of the original dora v2 etclient (SPEC §7). Field names
 * and their case are part of the output format. Durations are Go
 * `time.Duration` strings.
 */
export interface BenchmarkReport {
  Concurrency: number;
  /** Requests per worker. */
  requests: number;
  Success: number;
  Failure: number;
  /** Completed requests per wall-clock second, rounded to 3 decimals. */
  QPS: number;
  MaxRT: string;
  MinRT: string;
  AvgRT: string;
  /** Wall time of the measured phase. */
  Duration: string;
  LatencySummary: { Latencies: string[] };
  username: string;
  method: BenchmarkMethod;
  key: string;
  value: string;
}

/**
 * Builds the report: real percentiles from the distribution (clamped to the
 * exact min/max; p100 is the exact max), each line
 * `" 50% : 327.426µs (cumulative count 60000)"` where the count is the number
 * of requests that percentile covers, ⌈p · total / 100⌉.
 */
export function buildReport(m: BenchmarkMeasurement): BenchmarkReport {
  const completed = m.success + m.failure;
  const total = m.latencies.totalCount;
  const latencies = REPORT_PERCENTILES.map((p) => {
    let ns = 0;
    if (total > 0) ns = p === 100 ? m.maxNs : Math.min(Math.max(m.latencies.valueAtPercentile(p), m.minNs), m.maxNs);
    const count = p === 100 ? total : Math.ceil((p * total) / 100);
    return `${String(p).padStart(3, " ")}% : ${formatGoDuration(ns)} (cumulative count ${count})`;
  });
  const wallSeconds = m.wallNs / 1e9;
  return {
    Concurrency: m.concurrency,
    requests: m.requestsPerWorker,
    Success: m.success,
    Failure: m.failure,
    QPS: wallSeconds > 0 ? Math.round((completed / wallSeconds) * 1000) / 1000 : 0,
    MaxRT: formatGoDuration(m.maxNs),
    MinRT: formatGoDuration(m.minNs),
    AvgRT: formatGoDuration(completed > 0 ? Math.round(m.sumNs / completed) : 0),
    Duration: formatGoDuration(m.wallNs),
    LatencySummary: { Latencies: latencies },
    username: m.username,
    method: m.method,
    key: m.key,
    value: m.value,
  };
}

/** The report as the original printed it: `Benchmark Report:` then the indented JSON array of one object. */
export function formatReport(report: BenchmarkReport): string {
  return `Benchmark Report:\n${JSON.stringify([report], null, 2)}`;
}

/** The report as one line of JSON (`--json`). */
export function formatReportJson(report: BenchmarkReport): string {
  return JSON.stringify(report);
}
