import cliProgress from "cli-progress";

/** Milliseconds between two progress lines when stderr is not a terminal, by default. */
export const DEFAULT_SEED_PROGRESS_INTERVAL_MS = 5000;

/** Options of {@link createSeedProgress}. */
export interface SeedProgressOptions {
  /** Where progress goes (etserver passes stderr). A TTY gets a bar, anything else a line every `intervalMs`. */
  readonly stream: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Users to seed. */
  readonly total: number;
  /** Milliseconds between two progress lines when `stream` is not a TTY. Default {@link DEFAULT_SEED_PROGRESS_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Clock in milliseconds; tests pass a fake one. Default `performance.now`. */
  readonly now?: () => number;
}

/** Progress of `etserver seed`. */
export interface SeedProgress {
  /** Reports that `done` users of the total are processed. */
  update(done: number): void;
  /** Ends the display (the bar's last state stays on screen). */
  stop(): void;
}

/**
 * Progress of `etserver seed` (SPEC §6): a cli-progress bar when `stream` is
 * a terminal; otherwise (a log file, CI, a pipe) one line every `intervalMs`,
 * e.g. `seed: 250000/1000001 users (25%), 21000 rows/s, about 36 s left`, so
 * a long seed is never silent.
 */
export function createSeedProgress(options: SeedProgressOptions): SeedProgress {
  const { stream, total } = options;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const rate = (done: number, at: number) => (at > started ? Math.round((done * 1000) / (at - started)) : 0);

  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      { stream, format: "seed [{bar}] {percentage}% | {value}/{total} users | {rate} rows/s | {eta_formatted} left", hideCursor: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: 0 });
    return {
      update: (done) => bar.update(done, { rate: rate(done, now()) }),
      stop: () => bar.stop(),
    };
  }

  const intervalMs = options.intervalMs ?? DEFAULT_SEED_PROGRESS_INTERVAL_MS;
  let lastLine = started;
  return {
    update(done) {
      const at = now();
      if (at - lastLine < intervalMs || done >= total) return;
      lastLine = at;
      const perSecond = rate(done, at);
      const left = perSecond > 0 ? `, about ${Math.ceil((total - done) / perSecond)} s left` : "";
      stream.write(`seed: ${done}/${total} users (${Math.floor((done * 100) / total)}%), ${perSecond} rows/s${left}\n`);
    },
    stop() {},
  };
}

/** The summary line of a finished seed, e.g. `seeded users 1..1000001 in 47.2 s (21186 rows/s): 1000001 created, 0 already existed`. */
export function formatSeedSummary(users: number, result: { created: number; existing: number; elapsedMs: number }): string {
  const seconds = result.elapsedMs / 1000;
  return `seeded users 1..${users} in ${seconds.toFixed(1)} s (${Math.round(users / seconds)} rows/s): ${result.created} created, ${result.existing} already existed`;
}
