/**
 * etclient's entry point (the bin shim imports this module): runs
 * {@link main} on the process's arguments and sets the exit code.
 */
import { processSurroundings } from "@dora/runtime/config";
import { hideBin } from "yargs/helpers";
import { main } from "./main.js";

const code = await main(hideBin(process.argv), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stderr: process.stderr,
  ...processSurroundings(),
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
