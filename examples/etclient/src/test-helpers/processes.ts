import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnEtserver } from "../../../etserver/src/test-helpers/etserver.js";
import { environmentWithout, runToCompletion, type ProcessResult } from "../../../etserver/src/test-helpers/processes.js";

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
export type RunResult = ProcessResult;

/**
 * Runs the etclient bin with `args` and waits for it to exit (killing it
 * after `killAfterMs`, default 25 s). The environment has no ETCLIENT_*
 * variable but those in `options.env`, so only `--address` or a test's own
 * ETCLIENT_ADDRESS decides where it connects.
 */
export function runEtclient(args: string[], options: { cwd?: string; env?: Record<string, string>; killAfterMs?: number } = {}): Promise<RunResult> {
  return runToCompletion(process.execPath, [ETCLIENT_BIN, ...args], { cwd: options.cwd, env: { ...environmentWithout(/^ETCLIENT_/), ...options.env }, killAfterMs: options.killAfterMs ?? 25_000 });
}
