import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import type { StoreSettings } from "./stores.js";

/** What one run of the comparison measures, and how. */
export interface BenchSettings {
  /** Rounds; each round runs every selected system once, in the same order. */
  rounds: number;
  /** Concurrent callers. */
  concurrency: number;
  /** Calls per caller in each measured run (messages per caller for the streaming systems). */
  requestsPerCaller: number;
  /** Messages the server sends on each stream of the streaming systems. */
  messagesPerStream: number;
  /** Seconds of warm-up calls (a separate client process) before each measured run; 0: none. */
  warmupSeconds: number;
  /** Bytes of key and value. */
  sizeBytes: number;
  /** Measured seconds of `npm run bench -w @dora/runtime` (it runs for a time, not a count). */
  runtimeBenchSeconds: number;
  /** Username and password of the session every call carries. */
  username: string;
  password: string;
  /** Key and value letter. */
  letter: string;
  /** When set, servers and measured clients run with `node --cpu-prof` writing here. */
  cpuProfDir: string | undefined;
  /** Longest a measured client may run before it is killed, ms. */
  clientTimeoutMs: number;
  /** MySQL and Redis of the MySQL-store system (not in the report: a URL may hold a password). */
  stores: StoreSettings;
}

/** Where the harness finds the programs it runs. */
export interface BenchPaths {
  /** Repository root. */
  root: string;
  /** examples/bench. */
  benchDir: string;
  etserverBin: string;
  etclientBin: string;
  serverMain: string;
  clientMain: string;
  usageHook: string;
}

/** Paths relative to this built file (examples/bench/dist/settings.js). */
export function benchPaths(): BenchPaths {
  const dist = fileURLToPath(new URL(".", import.meta.url));
  const benchDir = resolve(dist, "..");
  const root = resolve(benchDir, "../..");
  return {
    root,
    benchDir,
    etserverBin: resolve(root, "examples/etserver/bin/etserver.js"),
    etclientBin: resolve(root, "examples/etclient/bin/etclient.js"),
    serverMain: resolve(dist, "server-main.js"),
    clientMain: resolve(dist, "client-main.js"),
    usageHook: resolve(dist, "usage-hook.js"),
  };
}
