import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnEtserver } from "../../../etserver/src/test-helpers/etserver.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The committed etclient bin shim (runs the built dist). */
export const ETCLIENT_BIN = path.resolve(here, "../../bin/etclient.js");

/** A running etserver child process. */
export interface RunningServer {
  /** `HOST:PORT` it listens on. */
  readonly address: string;
  /** Sends SIGTERM and waits until the process has exited. */
  stop(): Promise<unknown>;
}

/**
 * Starts `etserver serve --listen 127.0.0.1:0 --store memory` and waits for its
 * first stdout line, `etserver listening on HOST:PORT`.
 */
export function startEtserver(extraArgs: string[] = []): Promise<RunningServer> {
  return spawnEtserver(["serve", "--listen", "127.0.0.1:0", "--store", "memory", ...extraArgs]);
}

/** What a finished etclient run left behind. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the etclient bin with `args` and waits for it to exit (killing it
 * after `killAfterMs`). The environment has no ETCLIENT_ADDRESS, so only
 * `--address` decides where it connects.
 */
export function runEtclient(args: string[], options: { cwd?: string; env?: Record<string, string>; killAfterMs?: number } = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.["ETCLIENT_ADDRESS"] === undefined) delete env["ETCLIENT_ADDRESS"];
  const child = spawn(process.execPath, [ETCLIENT_BIN, ...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 25_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
