import * as hdr from "hdr-histogram-js";

/** Summary of one measured run of a client. */
export interface ClientRunResult {
  /** Calls made (answered or failed). */
  calls: number;
  /** Calls answered OK with the expected value. */
  success: number;
  /** Every other outcome. */
  failure: number;
  /** Wall time of the run, seconds. */
  wallSeconds: number;
  /** Calls per wall second. */
  qps: number;
  /** Median latency, µs. */
  p50Us: number;
  /** 99th percentile latency, µs. */
  p99Us: number;
  /** Largest latency, µs. */
  maxUs: number;
}

/**
 * Call latencies in nanoseconds in an HdrHistogram with the settings
 * etclient's benchmark uses (3 significant digits, auto-resizing), so every
 * system's percentiles are computed the same way.
 */
export class LatencyHistogram {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
  private max = 0;

  /** Records one latency, in nanoseconds. */
  record(nanoseconds: number): void {
    const ns = Math.max(1, Math.round(nanoseconds));
    this.histogram.recordValue(ns);
    if (ns > this.max) this.max = ns;
  }

  /** Number of recorded latencies. */
  get count(): number {
    return this.histogram.totalCount;
  }

  /** Latency at `percentile` (0–100), in µs. */
  percentileUs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  /** Largest recorded latency (exact), in µs. */
  get maxUs(): number {
    return this.max / 1000;
  }
}
