import * as hdr from "hdr-histogram-js";
import type { LatencyDistribution } from "./report.js";

/**
 * Records call latencies in nanoseconds: an HdrHistogram (3 significant
 * digits, auto-resizing) for the percentiles, plus the exact min, max and sum
 * for MinRT, MaxRT and AvgRT.
 */
export class LatencyRecorder implements LatencyDistribution {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
  /** Smallest recorded latency, ns; 0 before the first record. */
  minNs = 0;
  /** Largest recorded latency, ns. */
  maxNs = 0;
  /** Sum of all recorded latencies, ns. */
  sumNs = 0;

  /** Records one latency; values below 1 ns are recorded as 1 ns. */
  record(nanoseconds: number): void {
    const ns = Math.max(1, Math.round(nanoseconds));
    this.histogram.recordValue(ns);
    if (this.histogram.totalCount === 1 || ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
    this.sumNs += ns;
  }

  /** Number of recorded latencies. */
  get totalCount(): number {
    return this.histogram.totalCount;
  }

  /** Latency in ns at the given percentile (0–100). */
  valueAtPercentile(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile);
  }
}
