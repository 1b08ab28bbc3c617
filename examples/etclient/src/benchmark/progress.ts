import cliProgress from "cli-progress";

/** Receives the benchmark's progress; see {@link createProgress}. */
export interface Progress {
  /** Starts showing progress towards `total` (requests, or milliseconds in a `--duration` run). */
  start(total: number): void;
  /** The current value (requests completed, or milliseconds elapsed). */
  update(value: number): void;
  /** Removes the bar. */
  stop(): void;
}

/** A progress sink that shows nothing (stderr is not a TTY, or `--json`). */
export const noProgress: Progress = { start() {}, update() {}, stop() {} };

/**
 * A `cli-progress` bar on `stream` (stderr), cleared when done so that only
 * the report remains. Redrawn at most 10 times a second.
 */
export function createProgress(stream: NodeJS.WriteStream, unit: "requests" | "ms"): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: unit === "requests" ? "{bar} {percentage}% | {value}/{total} requests | {eta_formatted} left" : "{bar} {percentage}% | {value}/{total} ms",
      fps: 10,
      clearOnComplete: true,
      hideCursor: true,
      etaBuffer: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0),
    update: (value) => bar.update(value),
    stop: () => bar.stop(),
  };
}
