/**
 * The benchmark thread's entry point (see benchmark/benchmark-thread.ts):
 * runs etclient's {@link run} on the benchmark the main thread parsed and
 * posts its output, its progress and its exit code to the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { BenchmarkThreadData, BenchmarkThreadMessage } from "./benchmark/benchmark-thread.js";
import { noProgress, type Progress } from "./benchmark/progress.js";
import { run } from "./run.js";

const port = parentPort;
if (port === null) throw new Error("benchmark-thread-main runs as a worker thread");
const data = workerData as BenchmarkThreadData;
const post = (message: BenchmarkThreadMessage): void => port.postMessage(message);

/** Progress shown by the main thread: each step becomes a message. */
function relayedProgress(unit: "requests" | "ms"): Progress {
  return {
    start: (total) => post({ kind: "progress-start", unit, total }),
    update: (value) => post({ kind: "progress-update", value }),
    stop: () => post({ kind: "progress-stop" }),
  };
}

const code = await run(data.invocation, {
  out: (line) => post({ kind: "out", line }),
  err: (line) => post({ kind: "err", line }),
  progress: data.showProgress ? relayedProgress : () => noProgress,
  env: data.env,
  cwd: data.cwd,
  executableDir: data.executableDir,
});
post({ kind: "done", code });
