import { Code, DoraError } from "@dora/runtime";
import type { ConfigSurroundings } from "@dora/runtime/config";
import { CommandFailure } from "./app/command-failure.js";
import { KvCommands } from "./app/kv-commands.js";
import { LetterPayloadApi } from "./app/letter-payload.js";
import { runCommands } from "./app/run-commands.js";
import { Session } from "./app/session.js";
import type { Progress } from "./benchmark/progress.js";
import { buildReport, formatReport, formatReportJson } from "./benchmark/report.js";
import { runBenchmark, type FailureTally } from "./benchmark/run-benchmark.js";
import type { BenchmarkInvocation, CommandsInvocation, Invocation, WatchInvocation } from "./cli/invocation.js";
import { ConfigError, loadClientConfig } from "./infra/client-config.js";
import { connectKv, resolveClientOptions, type KvConnection } from "./infra/kv-client-factory.js";

/** Exit codes: 0 done, 1 a command or the configuration failed, 2 a usage error (SPEC §7). */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** The process surroundings `main` and {@link run} use, so they can run in tests without a child process. */
export interface MainIo extends ConfigSurroundings {
  /** Prints one line on stdout. */
  out(line: string): void;
  /** Prints one line on stderr. */
  err(line: string): void;
  /**
   * The benchmark's progress display for `unit` (requests done, or milliseconds of a
   * `--duration` run): cli.ts shows a bar on stderr when it is a TTY, else nothing.
   */
  readonly progress: (unit: "requests" | "ms") => Progress;
  /**
   * Makes SIGINT and SIGTERM a request to stop instead of an abrupt exit: the
   * returned signal aborts on the first one. Called only by commands that run
   * until interrupted (`watch`). Default: a signal that never aborts.
   */
  readonly interrupts?: () => AbortSignal;
}

/**
 * Runs a parsed invocation: loads the configuration, builds one pooled
 * client, runs the commands, the watch or the benchmark, and closes the
 * client. Never throws; returns the exit code. Failures are one line on
 * stderr without a stack trace. The benchmark thread calls this directly
 * with the invocation the main thread parsed (benchmark/benchmark-thread.ts).
 */
export async function run(invocation: Invocation, io: MainIo): Promise<number> {
  let connection: KvConnection;
  try {
    const config = loadClientConfig({ file: invocation.connection.configFile, executableDir: io.executableDir, cwd: io.cwd, env: io.env });
    connection = connectKv(resolveClientOptions(config, invocation.connection, io.cwd));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`etclient: ${error.message}`);
      return ExitCode.Failure;
    }
    return unexpected(io, error);
  }
  try {
    await execute(invocation, connection, io);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommandFailure) {
      io.err(error.message + hint(error, invocation));
      return ExitCode.Failure;
    }
    return unexpected(io, error);
  } finally {
    await connection.close();
  }
}

function execute(invocation: Invocation, connection: KvConnection, io: MainIo): Promise<void> {
  switch (invocation.kind) {
    case "commands":
      return executeCommands(invocation, connection, io);
    case "watch":
      return executeWatch(invocation, connection, io);
    case "benchmark":
      return executeBenchmark(invocation, connection, io);
  }
}

/** Logs in (printing nothing), then prints `watch a = m` per value until `--count` values or an interrupt (exit 0). */
async function executeWatch(invocation: WatchInvocation, connection: KvConnection, io: MainIo): Promise<void> {
  const api = new LetterPayloadApi(connection.api, invocation.size);
  const session = new Session(invocation.user);
  await new KvCommands(api, session, () => undefined).login(invocation.password);
  const interrupted = io.interrupts?.() ?? new AbortController().signal;
  await new KvCommands(api, session, (line) => io.out(line)).watch(invocation.key, invocation.count, interrupted);
}

async function executeCommands(invocation: CommandsInvocation, connection: KvConnection, io: MainIo): Promise<void> {
  const kv = new KvCommands(new LetterPayloadApi(connection.api, invocation.size), new Session(invocation.user), (line) => io.out(line));
  await runCommands(invocation.commands, invocation, kv);
}

async function executeBenchmark(invocation: BenchmarkInvocation, connection: KvConnection, io: MainIo): Promise<void> {
  const durationMs = invocation.durationSeconds === undefined ? undefined : invocation.durationSeconds * 1000;
  const progress = io.progress(durationMs === undefined ? "requests" : "ms");
  const { measurement, failures, stopped } = await runBenchmark(
    new LetterPayloadApi(connection.api, invocation.size),
    {
      method: invocation.method,
      user: invocation.user,
      password: invocation.password,
      key: invocation.key,
      value: invocation.value,
      concurrency: invocation.concurrency,
      requests: invocation.requests ?? 1,
      durationMs,
    },
    progress,
  );
  const report = buildReport(measurement);
  io.out(invocation.json ? formatReportJson(report) : formatReport(report));
  if (failures.size > 0) io.err(failureSummary(measurement.failure, failures));
  // The report above says what was measured; a server that went away is still a failure (exit 1).
  if (stopped !== undefined) throw new CommandFailure("benchmark", stopped);
}

/** `benchmark: 12 calls failed: Unavailable: rate limit (10), DeadlineExceeded: … (2)` — the five most frequent causes. */
export function failureSummary(total: number, failures: FailureTally): string {
  const top = [...failures.entries()].sort((a, b) => b[1] - a[1]);
  const shown = top.slice(0, 5).map(([what, count]) => `${what} (${count})`);
  if (top.length > 5) shown.push(`${top.length - 5} more`);
  return `benchmark: ${total} call${total === 1 ? "" : "s"} failed: ${shown.join(", ")}`;
}

/**
 * A word of advice after a failure whose cause is recognisable: a server that
 * does not know `/kv.v1.KvService/Login` is most likely a dora v2 Go server,
 * which only knows bare method names (SPEC §3.3).
 */
function hint(failure: CommandFailure, invocation: Invocation): string {
  const cause = failure.cause;
  if (cause instanceof DoraError && cause.code === Code.Unimplemented && !invocation.connection.bareMethodNames) {
    return " (a dora v2 Go server? add --bare-method-names)";
  }
  return "";
}

function unexpected(io: MainIo, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  io.err(`etclient: unexpected error: ${message.split("\n")[0] ?? ""}`);
  if (io.env["ETCLIENT_DEBUG"] === "1" && error instanceof Error && error.stack !== undefined) io.err(error.stack);
  return ExitCode.Failure;
}
