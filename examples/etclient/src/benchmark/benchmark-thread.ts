/**
 * `etclient benchmark` runs in a worker thread whose young generation is
 * sized for a load generator, the rest of etclient in the main thread.
 *
 * Why: a benchmark allocates fast (a few KB of strings per call) and holds
 * many short-lived ArrayBuffers (every frame sent and every chunk read), which
 * V8 counts against the old generation's limit until a scavenge frees them.
 * In a heap that starts with a 1 MiB new space, a full collection made under
 * that pressure can set the limit just above the live size, and from then on
 * V8 marks and compacts every few tens of milliseconds for the rest of the run:
 * in `npm run bench` that was four rounds of six, at 33–38 µs of etclient CPU
 * per write instead of 22–25 and 16,000 writes/s instead of 18,000–19,800
 * (docs/performance.md, "The load generator's heap"). A new space of
 * {@link BENCHMARK_SEMI_SPACE_MB} MiB from the start (V8's
 * `--min-semi-space-size`) never fell into it. V8 sizes a heap when its
 * isolate is created, so the flag is set here, then the thread that runs the
 * benchmark is created; the main thread's heap stays as it was. The main
 * thread parses the command line and hands the thread the parsed benchmark,
 * so each thread loads only the modules it needs.
 */
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import type { BenchmarkInvocation } from "../cli/invocation.js";
import type { Progress } from "./progress.js";

/** Semi-space size of the benchmark thread's new space, MiB (V8's default maximum on 64-bit Node 20). */
export const BENCHMARK_SEMI_SPACE_MB = 16;

/** What the main thread hands the benchmark thread (`workerData`). */
export interface BenchmarkThreadData {
  /** The benchmark, as the main thread parsed it from the command line (so the thread does not load the parser). */
  readonly invocation: BenchmarkInvocation;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  readonly executableDir: string;
  /** The main thread shows a progress bar (stderr is a TTY). */
  readonly showProgress: boolean;
}

/** A message from the benchmark thread to the main thread, in the order they happen. */
export type BenchmarkThreadMessage =
  | { readonly kind: "out" | "err"; readonly line: string }
  | { readonly kind: "progress-start"; readonly unit: "requests" | "ms"; readonly total: number }
  | { readonly kind: "progress-update"; readonly value: number }
  | { readonly kind: "progress-stop" }
  | { readonly kind: "done"; readonly code: number };

/** Where the main thread puts what the benchmark thread says. */
export interface BenchmarkThreadHost {
  out(line: string): void;
  err(line: string): void;
  /** The progress display for `unit` (called at most once, when the benchmark starts measuring). */
  progress(unit: "requests" | "ms"): Progress;
}

/** True when the command line already sizes V8's new space, which then stays as the user set it. */
export function semiSpaceSetBy(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => /^--(min|max)[-_]semi[-_]space[-_]size(=|$)/.test(arg));
}

/**
 * Runs `entry` (a worker module that runs etclient's `run` and posts
 * {@link BenchmarkThreadMessage}s) in a thread with a new space of
 * {@link BENCHMARK_SEMI_SPACE_MB} MiB, relays its output to `host`, and
 * resolves with its exit code: the code it posts, or 1 (with a line on stderr)
 * when it throws or ends without one.
 */
export function runBenchmarkThread(entry: URL, data: BenchmarkThreadData, host: BenchmarkThreadHost, execArgv: readonly string[] = process.execArgv): Promise<number> {
  if (!semiSpaceSetBy(execArgv)) setFlagsFromString(`--min-semi-space-size=${BENCHMARK_SEMI_SPACE_MB}`);
  return new Promise((resolve) => {
    const worker = new Worker(entry, { workerData: data });
    let code: number | undefined;
    let progress: Progress | undefined;
    worker.on("message", (message: BenchmarkThreadMessage) => {
      switch (message.kind) {
        case "out":
          host.out(message.line);
          break;
        case "err":
          host.err(message.line);
          break;
        case "progress-start":
          progress ??= host.progress(message.unit);
          progress.start(message.total);
          break;
        case "progress-update":
          progress?.update(message.value);
          break;
        case "progress-stop":
          progress?.stop();
          break;
        case "done":
          code = message.code;
          break;
      }
    });
    worker.on("error", (error: unknown) => {
      progress?.stop();
      const text = error instanceof Error ? error.message : String(error);
      host.err(`etclient: unexpected error: ${text.split("\n")[0] ?? ""}`);
      code ??= 1;
    });
    worker.on("exit", () => {
      if (code === undefined) host.err("etclient: unexpected error: the benchmark thread ended without a result");
      resolve(code ?? 1);
    });
  });
}
