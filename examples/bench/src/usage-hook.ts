/**
 * Preloaded with `node --import` into each measured client process: when
 * the process exits it writes its CPU time and peak RSS, as JSON, to the
 * file named by `DORA_BENCH_USAGE_FILE` (nothing when unset). This is how
 * the harness measures etclient, whose code it does not change, the same
 * way as every other client.
 */
import { writeFileSync } from "node:fs";

/** What the hook writes. */
export interface ProcessUsage {
  /** User CPU time, µs. */
  userUs: number;
  /** System CPU time, µs. */
  systemUs: number;
  /** Peak resident set size, KiB. */
  maxRssKb: number;
}

const file = process.env["DORA_BENCH_USAGE_FILE"];
if (file !== undefined && file !== "") {
  // Only this process reports; processes it starts do not inherit the file.
  delete process.env["DORA_BENCH_USAGE_FILE"];
  process.on("exit", () => {
    const usage = process.resourceUsage();
    const report: ProcessUsage = { userUs: usage.userCPUTime, systemUs: usage.systemCPUTime, maxRssKb: usage.maxRSS };
    writeFileSync(file, JSON.stringify(report));
  });
}
