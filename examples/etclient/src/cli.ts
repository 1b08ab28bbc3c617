/**
 * etclient's entry point (the bin shim imports this module): runs
 * {@link main} on the process's arguments and sets the exit code. A
 * `benchmark` runs in a thread of its own with a heap sized for load
 * generation (benchmark/benchmark-thread.ts); every other command runs here.
 */
import { processSurroundings } from "@dora/runtime/config";
import { hideBin } from "yargs/helpers";
import { runBenchmarkThread } from "./benchmark/benchmark-thread.js";
import { createProgress, noProgress } from "./benchmark/progress.js";
import { parseArgs } from "./cli/parse-args.js";

const args = hideBin(process.argv);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);
const progress = (unit: "requests" | "ms") => (process.stderr.isTTY ? createProgress(process.stderr, unit) : noProgress);
const surroundings = processSurroundings();

const parsed = await parseArgs(args);
const code =
  parsed.kind === "run" && parsed.invocation.kind === "benchmark"
    ? await runBenchmarkThread(
        new URL("./benchmark-thread-main.js", import.meta.url),
        { invocation: parsed.invocation, env: { ...surroundings.env }, cwd: surroundings.cwd, executableDir: surroundings.executableDir, showProgress: process.stderr.isTTY === true },
        { out, err, progress },
      )
    : // Loaded only here: for a benchmark, the client, the runtime and the commands are loaded by its thread alone.
      await (await import("./main.js")).main(args, {
        out,
        err,
        progress,
        ...surroundings,
        interrupts() {
          const interrupted = new AbortController();
          for (const signal of ["SIGINT", "SIGTERM"] as const) {
            process.once(signal, () => {
              interrupted.abort();
              // A second signal ends the process at once.
              process.once(signal, () => process.exit(130));
            });
          }
          return interrupted.signal;
        },
      });
process.exitCode = code;
// The client is closed and its timers are unref()-ed, so the process should
// exit by itself; this unref()-ed timer only fires if something still holds
// the event loop, and then ends the process rather than letting a CLI hang.
setTimeout(() => process.exit(code), 2000).unref();
