import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, DoraError, type ClientOptions } from "@dora/runtime";
import { createKvServiceClient } from "@dora/tiger/kv/v1";
import { createEtserver } from "../compose.js";
import type { Clock } from "../domain/clock.js";
import { environmentWithout, runToCompletion, type ProcessResult } from "./processes.js";
import { etserverConfigSchema, type EtserverConfig } from "../infra/config/etserver-config.js";
import { createPinoLogger, type EtserverLogger } from "../infra/pino-logger.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The committed bin shim (runs the built dist). */
export const ETSERVER_BIN = path.resolve(here, "../../bin/etserver.js");
/** certs/make-certs.sh */
export const MAKE_CERTS = path.resolve(here, "../../../../certs/make-certs.sh");

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A config for tests: port 0 on loopback, logging silenced, `overrides` on top of the defaults. */
export function testConfig(overrides: DeepPartial<EtserverConfig> = {}): EtserverConfig {
  const { server, log, ...rest } = overrides as Record<string, Record<string, unknown> | undefined>;
  return etserverConfigSchema.parse({ ...rest, server: { listenAddress: "127.0.0.1:0", ...server }, log: { level: "silent", ...log } });
}

/** An etserver running in this process, and a generated client connected to it. */
export interface InProcessServer {
  readonly address: string;
  readonly kv: ReturnType<typeof createKvServiceClient>;
  /** Another client on the same server, e.g. without metadata defaults. */
  client(options?: Partial<ClientOptions>): { kv: ReturnType<typeof createKvServiceClient>; close(): Promise<void> };
  /** Watches open in the server (WatchSecureMessage). */
  openWatches(): number;
  /** Shuts the server down while its clients stay open (to see what shutdown does to their calls). */
  closeServer(): Promise<void>;
  close(): Promise<void>;
}

/** How {@link startInProcess} starts etserver besides its configuration. */
export interface StartOptions {
  /** Options of every client made on the server. */
  readonly client?: Partial<ClientOptions>;
  /** Default: a silent logger. */
  readonly logger?: EtserverLogger;
  /** The server's clock (e.g. a ManualClock). Default: the system clock. */
  readonly clock?: Clock;
}

/** Starts etserver in process with `config`, listening on a free port. */
export async function startInProcess(config: EtserverConfig, options: StartOptions = {}): Promise<InProcessServer> {
  const clientOptions = options.client ?? {};
  const etserver = createEtserver(config, options.logger ?? createPinoLogger("silent"), options.clock === undefined ? {} : { clock: options.clock });
  const { host, port } = await etserver.listen();
  const address = `${host}:${port}`;
  const clients: { close(): Promise<void> }[] = [];
  const client = (options: Partial<ClientOptions> = {}) => {
    const raw = createClient({ address, timeoutMs: 5000, ...clientOptions, ...options });
    clients.push(raw);
    return { kv: createKvServiceClient(raw), close: () => raw.close() };
  };
  const main = client();
  let closing: Promise<void> | undefined;
  const closeServer = () => (closing ??= etserver.close());
  return {
    address,
    kv: main.kv,
    client,
    openWatches: () => etserver.watches.openCount,
    closeServer,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await closeServer();
    },
  };
}

/** An etserver child process started through the bin. */
export interface ChildServer {
  readonly address: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Watches a child etserver until its first stdout line, `etserver listening
 * on HOST:PORT`, and returns it as a {@link ChildServer}; rejects (killing
 * the child) on any other first line or an exit before it.
 */
export function watchEtserver(child: ChildProcessByStdio<null, Readable, Readable>): Promise<ChildServer> {
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let stdout = "";
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      child.stdout.off("data", onData);
      child.stdout.resume();
      const match = /^etserver listening on (\S+:\d+)$/.exec(stdout.slice(0, newline));
      if (match?.[1] === undefined) {
        child.kill("SIGKILL");
        reject(new Error(`unexpected first line: ${stdout.slice(0, newline)}`));
        return;
      }
      resolve({
        address: match[1],
        child,
        stderr: () => stderr,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.once("exit", (code) => done(code));
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`etserver exited with ${code} before listening: ${stderr}`)));
  });
}

/** Runs `etserver serve ...args` and waits for `etserver listening on HOST:PORT`. */
export function spawnEtserver(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<ChildServer> {
  return watchEtserver(spawn(process.execPath, [ETSERVER_BIN, ...args], { cwd: options.cwd, env: { ...environmentWithout(/^ETSERVER_/), ...options.env }, stdio: ["ignore", "pipe", "pipe"] }));
}

/** Runs the bin to completion (killed after 25 s). */
export function runEtserver(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<ProcessResult> {
  return runToCompletion(process.execPath, [ETSERVER_BIN, ...args], { cwd: options.cwd, env: { ...environmentWithout(/^ETSERVER_/), ...options.env }, killAfterMs: 25_000 });
}

/** Retries `attempt` every 100 ms until it resolves or `timeoutMs` passes. */
export async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The DoraError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<DoraError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DoraError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}
