/**
 * Child processes and ports for the tests of etserver and etclient (both
 * programs' tests import this module).
 */
import { spawn } from "node:child_process";
import net from "node:net";

/** What a finished child process left behind. */
export interface ProcessResult {
  /** Its exit code; null when it was killed (e.g. after `killAfterMs`). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `args` to completion and collects its output; it is killed (SIGKILL) once `killAfterMs` has passed. */
export function runToCompletion(command: string, args: readonly string[], options: { cwd?: string | undefined; env: NodeJS.ProcessEnv; killAfterMs: number }): Promise<ProcessResult> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** This process's environment without the variables whose names match `drop` (e.g. /^ETSERVER_/), so only a test's own settings apply. */
export function environmentWithout(drop: RegExp): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (!drop.test(key) && value !== undefined) env[key] = value;
  return env;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
