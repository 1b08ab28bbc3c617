import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createSeedProgress, formatSeedSummary } from "./seed-progress.js";

/** A non-TTY stream (a pipe, a log file) that keeps what was written. */
function pipe(): { stream: Writable; lines: () => string[] } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split("\n").filter(Boolean) };
}

describe("seed progress when stderr is not a terminal", () => {
  it("prints one line per interval with done/total, percent, rows/s and time left, and nothing between", () => {
    const out = pipe();
    let clock = 1000;
    const progress = createSeedProgress({ stream: out.stream, total: 1_000_001, intervalMs: 5000, now: () => clock });
    for (const [at, done] of [
      [1500, 5000],
      [5999, 40_000],
      [6000, 50_000], // 5 s after the start: first line
      [9000, 80_000],
      [10_999, 99_000],
      [11_000, 100_000], // 5 s after the first line
    ] as const) {
      clock = at;
      progress.update(done);
    }
    progress.stop();
    expect(out.lines()).toEqual([
      "seed: 50000/1000001 users (4%), 10000 rows/s, about 96 s left",
      "seed: 100000/1000001 users (9%), 10000 rows/s, about 91 s left",
    ]);
  });

  it("prints no progress line for a seed shorter than the interval, and the summary gives rows/s", () => {
    const out = pipe();
    let clock = 0;
    const progress = createSeedProgress({ stream: out.stream, total: 25, now: () => clock });
    clock = 300;
    progress.update(25);
    progress.stop();
    expect(out.lines()).toEqual([]);
    expect(formatSeedSummary(1_000_001, { created: 1_000_001, existing: 0, elapsedMs: 47_250 })).toBe(
      "seeded users 1..1000001 in 47.3 s (21164 rows/s): 1000001 created, 0 already existed",
    );
  });
});
