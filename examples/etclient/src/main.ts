import { parseArgs } from "./cli/parse-args.js";
import { ExitCode, run, type MainIo } from "./run.js";

export { ExitCode, failureSummary, run, type MainIo } from "./run.js";

/**
 * The composition root of etclient: parses the command line, then runs it
 * ({@link run}: configuration, one pooled client, the commands or the
 * benchmark, the client closed). Never throws; returns the exit code.
 * Failures are one line on stderr without a stack trace.
 *
 * @param args the command line after the script name.
 */
export async function main(args: readonly string[], io: MainIo): Promise<number> {
  const parsed = await parseArgs(args);
  if (parsed.kind === "help") {
    io.out(parsed.text);
    return ExitCode.Ok;
  }
  if (parsed.kind === "usage-error") {
    io.err(`etclient: ${parsed.message} (see 'etclient ${parsed.helpCommand === "" ? "" : `${parsed.helpCommand} `}--help')`);
    return ExitCode.Usage;
  }
  return run(parsed.invocation, io);
}
