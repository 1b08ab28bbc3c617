import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The soak (scripts/soak.js) in its 100,000-call form: real etclient
 * benchmarks against one real etserver process. `npm run soak` runs the
 * 2,000,000-call form (minutes long, not in CI).
 */

const soak = fileURLToPath(new URL("./soak.js", import.meta.url));

interface Summary {
  calls: number;
  success: number;
  failure: number;
  warmCalls: number;
  rssAtWarmMb: number;
  rssAtEndMb: number;
  rssGrowthPercent: number;
  fdsAtStart: number;
  fdsAtEnd: number;
  ok: boolean;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [soak, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("soak (100,000 calls)", () => {
  it("etserver answers 100,000 etclient calls with no failure, resident memory grows by less than 10 % after the first 10,000, and its descriptors return to their count at start", { timeout: 900_000 }, async () => {
    const result = await run(["--calls", "100000", "--chunks", "10", "--json"]);
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout.trim()) as Summary;
    console.info(`soak: ${JSON.stringify(summary)}`);
    expect(summary.failure).toBe(0);
    expect(summary.success).toBe(summary.calls);
    expect(summary.calls).toBeGreaterThanOrEqual(100_000);
    expect(summary.warmCalls).toBeLessThanOrEqual(summary.calls / 10 + 12);
    expect(summary.rssGrowthPercent).toBeLessThan(10);
    expect(summary.fdsAtEnd).toBe(summary.fdsAtStart);
    expect(summary.ok).toBe(true);
    expect(result.code).toBe(0);
  });

  it("refuses a bad argument with exit code 2, naming it", async () => {
    const result = await run(["--calls", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe("soak: --calls must be a positive integer, got 0");
  });
});
