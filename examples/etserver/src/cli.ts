/**
 * etserver's entry point (the bin shim imports this module): runs
 * {@link main} on the process's arguments, stops gracefully on SIGINT or
 * SIGTERM, and sets the exit code.
 */
import { processSurroundings } from "@dora/runtime/config";
import { hideBin } from "yargs/helpers";
import { main } from "./main.js";

const stopSignal = new Promise<string>((resolve) => {
  const stop = (signal: NodeJS.Signals) => {
    resolve(signal);
    // A second signal while shutting down stops at once.
    process.once(signal, () => process.exit(1));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
});

const code = await main(hideBin(process.argv), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stderr: process.stderr,
  ...processSurroundings(),
  stopSignal,
});
process.exitCode = code;
// Everything is closed by now; if a handle still holds the event loop, end
// the process rather than hang (this timer is unref()-ed).
setTimeout(() => process.exit(code), 2000).unref();
