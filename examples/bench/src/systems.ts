import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseGoDurationUs } from "./go-duration.js";
import type { ClientRunResult } from "./latency.js";
import { processCpuUs, processPeakRssKb } from "./proc-stats.js";
import { cleanEnv, expectSuccess, runProcess, startServer, stopServer, type ServerProcess } from "./processes.js";
import type { BenchPaths, BenchSettings } from "./settings.js";
import { deleteKeysWithPrefix, mysqlDatabase, probeMysql, probeRedis, urlAddress } from "./stores.js";
import type { ProcessUsage } from "./usage-hook.js";

/** Families of systems; ratios compare dora with the best member of a family. */
export type SystemGroup = "dora" | "dora-mysql-write" | "dora-baseline" | "dora-runtime" | "runtime-bench" | "raw" | "grpc-js" | "connect" | "dora-stream" | "grpc-js-stream";

/** What one measured run of one system gives. CPU and RSS are null where they could not be measured. */
export interface Measurement {
  /** Calls in the measured run. */
  calls: number;
  /** Calls not answered OK with the expected value. */
  failures: number;
  qps: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Server process CPU (user + system) during the measured run, per call, µs. */
  serverCpuUsPerCall: number | null;
  /**
   * Client process CPU per call, µs: the measured process's CPU less that of the same client
   * making one call per caller (its start-up: loading, connecting, logging in), ÷ the calls
   * between them.
   */
  clientCpuUsPerCall: number | null;
  /** Server peak RSS (warm-up and measured run included), MiB. */
  serverPeakRssMiB: number | null;
  /** Client peak RSS, MiB. */
  clientPeakRssMiB: number | null;
}

/** One system of the comparison. */
export interface BenchSystem {
  /** Short id used on the command line (`--systems`) and in the results. */
  id: string;
  /** What it is, for the table. */
  label: string;
  group: SystemGroup;
  /** Run by default (else only when named in `--systems`). */
  inDefault: boolean;
  /**
   * Once per bench run, before its first run (e.g. creates its database). Throwing SkipSystem
   * reports the system as skipped with the reason; another error fails its runs.
   */
  prepare?(context: PrepareContext): Promise<void>;
  /** Runs it once: starts its server, warms up, measures, stops. */
  run(context: RunContext): Promise<Measurement>;
  /** Once per bench run after its last run, when `prepare` succeeded (e.g. deletes its keys). */
  finish?(context: PrepareContext): Promise<void>;
}

/** What `prepare` and `finish` are given. */
export interface PrepareContext {
  settings: BenchSettings;
  paths: BenchPaths;
}

/** What a system's run is given. */
export interface RunContext {
  settings: BenchSettings;
  paths: BenchPaths;
  /** 1-based round number (names profile folders). */
  round: number;
}

const MIB = 1024;
const SERVER_START_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 60_000;

function profileArgs(context: RunContext, systemId: string, role: "server" | "client"): string[] {
  const base = context.settings.cpuProfDir;
  if (base === undefined) return [];
  const dir = join(base, `${systemId}-r${context.round}-${role}`);
  mkdirSync(dir, { recursive: true });
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

/** How a server-and-client system is started and read. */
interface ServerClientPlan {
  systemId: string;
  serverArgs: string[];
  /** Runs once the server listens, before the warm-up (e.g. writes the key). */
  setup?: (address: string) => Promise<void>;
  /** Client arguments (after `node`) for a warm-up of `seconds` or the measured run. */
  clientArgs: (address: string, length: { seconds: number } | { requestsPerCaller: number }) => string[];
  /** Reads the measured client's stdout. */
  parse: (stdout: string) => ClientRunResult;
}

async function runServerClient(context: RunContext, plan: ServerClientPlan): Promise<Measurement> {
  const { settings, paths } = context;
  const node = process.execPath;
  const server: ServerProcess = await startServer(node, [...profileArgs(context, plan.systemId, "server"), ...plan.serverArgs], {
    cwd: paths.benchDir,
    env: cleanEnv(),
    timeoutMs: SERVER_START_TIMEOUT_MS,
  });
  const usageDir = mkdtempSync(join(tmpdir(), "dora-bench-"));
  try {
    await plan.setup?.(server.address);
    if (settings.warmupSeconds > 0) {
      const warm = await runProcess(node, plan.clientArgs(server.address, { seconds: settings.warmupSeconds }), {
        cwd: paths.benchDir,
        env: cleanEnv(),
        timeoutMs: settings.clientTimeoutMs,
      });
      expectSuccess("warm-up client", warm);
    }
    // The same client making one call per caller: its CPU is the client's start-up (loading,
    // connecting, logging in), taken off the measured run's so CPU per call counts calls only.
    const baselineFile = join(usageDir, "baseline.json");
    const baseline = await runProcess(node, ["--import", paths.usageHook, ...plan.clientArgs(server.address, { requestsPerCaller: 1 })], {
      cwd: paths.benchDir,
      env: cleanEnv({ DORA_BENCH_USAGE_FILE: baselineFile }),
      timeoutMs: settings.clientTimeoutMs,
    });
    expectSuccess("start-up baseline client", baseline);
    const baselineCalls = plan.parse(baseline.stdout).calls;
    const baselineUsage = readUsage(baselineFile);

    const usageFile = join(usageDir, "client.json");
    const cpuBefore = processCpuUs(server.pid);
    const measured = await runProcess(
      node,
      ["--import", paths.usageHook, ...profileArgs(context, plan.systemId, "client"), ...plan.clientArgs(server.address, { requestsPerCaller: settings.requestsPerCaller })],
      { cwd: paths.benchDir, env: cleanEnv({ DORA_BENCH_USAGE_FILE: usageFile }), timeoutMs: settings.clientTimeoutMs },
    );
    const cpuAfter = processCpuUs(server.pid);
    const serverRssKb = processPeakRssKb(server.pid);
    expectSuccess("measured client", measured);
    if (server.child.exitCode !== null) throw new Error(`server exited during the run: ${server.stderr().trim()}`);
    const result = plan.parse(measured.stdout);
    const usage = readUsage(usageFile);
    const clientCpuUs = usage === undefined || baselineUsage === undefined ? undefined : usage.userUs + usage.systemUs - (baselineUsage.userUs + baselineUsage.systemUs);
    const clientCalls = result.calls - baselineCalls;
    return {
      calls: result.calls,
      failures: result.failure,
      qps: result.qps,
      p50Us: result.p50Us,
      p99Us: result.p99Us,
      maxUs: result.maxUs,
      serverCpuUsPerCall: cpuBefore === undefined || cpuAfter === undefined || result.calls === 0 ? null : (cpuAfter - cpuBefore) / result.calls,
      clientCpuUsPerCall: clientCpuUs === undefined || clientCalls <= 0 ? null : Math.max(0, clientCpuUs) / clientCalls,
      serverPeakRssMiB: serverRssKb === undefined ? null : serverRssKb / MIB,
      clientPeakRssMiB: usage === undefined ? null : usage.maxRssKb / MIB,
    };
  } finally {
    await stopServer(server);
    rmSync(usageDir, { recursive: true, force: true });
  }
}

function readUsage(file: string): ProcessUsage | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ProcessUsage;
  } catch {
    return undefined;
  }
}

/** The last line of `stdout` that parses as a JSON object. */
function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not JSON; keep looking
    }
  }
  throw new Error(`no JSON result in the client's output: ${JSON.stringify(stdout.slice(-500))}`);
}

function numberField(object: Record<string, unknown>, name: string): number {
  const value = object[name];
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`result field ${name} is not a number: ${JSON.stringify(value)}`);
  return value;
}

/** Reads etclient's `benchmark --json` report (SPEC §7) into a run result. */
export function parseEtclientReport(stdout: string): ClientRunResult {
  const report = lastJsonLine(stdout);
  const success = numberField(report, "Success");
  const failure = numberField(report, "Failure");
  const summary = report["LatencySummary"] as { Latencies?: unknown } | undefined;
  const lines = Array.isArray(summary?.Latencies) ? (summary.Latencies as unknown[]) : [];
  const percentile = (p: number): number => {
    const line = lines.find((l): l is string => typeof l === "string" && l.trim().startsWith(`${p}%`));
    const match = line === undefined ? null : /%\s*:\s*(\S+)/.exec(line);
    if (match === null) throw new Error(`etclient report has no ${p}% latency`);
    return parseGoDurationUs(match[1]!);
  };
  return {
    calls: success + failure,
    success,
    failure,
    wallSeconds: parseGoDurationUs(String(report["Duration"])) / 1e6,
    qps: numberField(report, "QPS"),
    p50Us: percentile(50),
    p99Us: percentile(99),
    maxUs: parseGoDurationUs(String(report["MaxRT"])),
  };
}

/** Reads client-main's JSON line into a run result. */
export function parseClientMainResult(stdout: string): ClientRunResult {
  const result = lastJsonLine(stdout);
  return {
    calls: numberField(result, "calls"),
    success: numberField(result, "success"),
    failure: numberField(result, "failure"),
    wallSeconds: numberField(result, "wallSeconds"),
    qps: numberField(result, "qps"),
    p50Us: numberField(result, "p50Us"),
    p99Us: numberField(result, "p99Us"),
    maxUs: numberField(result, "maxUs"),
  };
}

function lengthArgs(length: { seconds: number } | { requestsPerCaller: number }, requestsFlag: string): string[] {
  return "seconds" in length ? ["--duration", String(length.seconds)] : [requestsFlag, String(length.requestsPerCaller)];
}

/**
 * dora's reference products: `etserver serve --store memory` and `etclient benchmark read`, every SPEC §6 behaviour on.
 * With `baselineRoot`, the same from another built checkout (`dora-baseline`), to compare a change with the code before it.
 */
function doraSystem(baselineRoot?: string): BenchSystem {
  return {
    id: baselineRoot === undefined ? "dora" : "dora-baseline",
    label: baselineRoot === undefined ? "dora: etserver --store memory + etclient benchmark read" : `dora as built in ${baselineRoot} (the baseline)`,
    group: baselineRoot === undefined ? "dora" : "dora-baseline",
    inDefault: true,
    run(context) {
      const settings = context.settings;
      const paths = baselineRoot === undefined ? context.paths : { ...context.paths, etserverBin: resolve(baselineRoot, "examples/etserver/bin/etserver.js"), etclientBin: resolve(baselineRoot, "examples/etclient/bin/etclient.js") };
      const common = (address: string): string[] => ["-u", settings.username, "-p", settings.password, "-k", settings.letter, "--size", String(settings.sizeBytes), "--address", address];
      return runServerClient(context, {
        systemId: baselineRoot === undefined ? "dora" : "dora-baseline",
        serverArgs: [paths.etserverBin, "serve", "--store", "memory", "--listen", "127.0.0.1:0"],
        async setup(address) {
          const output = await runProcess(process.execPath, [paths.etclientBin, "login,write", ...common(address), "-v", settings.letter], {
            cwd: paths.benchDir,
            env: cleanEnv(),
            timeoutMs: SETUP_TIMEOUT_MS,
          });
          expectSuccess("etclient login,write", output);
        },
        clientArgs: (address, length) => [
          paths.etclientBin,
          "benchmark",
          "read",
          ...common(address),
          "-c",
          String(settings.concurrency),
          ...lengthArgs(length, "-r"),
          "--json",
        ],
        parse: parseEtclientReport,
      });
    },
  };
}

/**
 * The MySQL store's write path: `etserver serve --store mysql` (accounts in MySQL; values,
 * sessions and rate limits in Redis) and `etclient benchmark write`, with a config of its own
 * pointing at the bench's database and Redis key prefix (`settings.stores`). Once per bench
 * run: both stores must answer (else the system is skipped), its old keys are deleted, then
 * `etserver migrate` and `etserver seed --users N` (both idempotent) create the accounts;
 * after the last round its keys are deleted again. The database is left in place.
 */
function mysqlWriteSystem(): BenchSystem {
  let configDir: string | undefined;
  const configFile = (): string => {
    if (configDir === undefined) throw new Error("dora-mysql-write ran before its prepare step");
    return join(configDir, "config.yaml");
  };
  return {
    id: "dora-mysql-write",
    label: "dora: etserver --store mysql (values and sessions in Redis) + etclient benchmark write",
    group: "dora-mysql-write",
    inDefault: true,
    async prepare({ settings, paths }) {
      const { stores } = settings;
      mysqlDatabase(stores.mysqlUrl);
      await probeMysql(stores.mysqlUrl);
      await probeRedis(stores.redisUrl);
      const users = Number(settings.username);
      if (!Number.isSafeInteger(users) || users < 1) throw new Error(`dora-mysql-write seeds users 1..N and needs a numeric username (got ${JSON.stringify(settings.username)})`);
      configDir = mkdtempSync(join(tmpdir(), "dora-bench-mysql-"));
      // YAML is a superset of JSON: the URLs and the prefix need no quoting rules of their own.
      const config = { store: "mysql", mysql: { url: stores.mysqlUrl }, redis: { url: stores.redisUrl, keyPrefix: stores.redisPrefix } };
      writeFileSync(configFile(), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      await deleteKeysWithPrefix(stores.redisUrl, stores.redisPrefix);
      for (const [what, args] of [
        ["etserver migrate", ["migrate"]],
        [`etserver seed --users ${users}`, ["seed", "--users", String(users)]],
      ] as const) {
        const output = await runProcess(process.execPath, [paths.etserverBin, ...args, "--config", configFile(), "--log-level", "warn"], {
          cwd: paths.benchDir,
          env: cleanEnv(),
          timeoutMs: SETUP_TIMEOUT_MS,
        });
        expectSuccess(`${what} (MySQL ${urlAddress(stores.mysqlUrl, 3306)}, database ${mysqlDatabase(stores.mysqlUrl)})`, output);
      }
    },
    run(context) {
      const { settings, paths } = context;
      const common = (address: string): string[] => ["-u", settings.username, "-p", settings.password, "-k", settings.letter, "-v", settings.letter, "--size", String(settings.sizeBytes), "--address", address];
      return runServerClient(context, {
        systemId: "dora-mysql-write",
        serverArgs: [paths.etserverBin, "serve", "--config", configFile(), "--store", "mysql", "--listen", "127.0.0.1:0"],
        clientArgs: (address, length) => [paths.etclientBin, "benchmark", "write", ...common(address), "-c", String(settings.concurrency), ...lengthArgs(length, "-r"), "--json"],
        parse: parseEtclientReport,
      });
    },
    async finish({ settings }) {
      if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
      configDir = undefined;
      await deleteKeysWithPrefix(settings.stores.redisUrl, settings.stores.redisPrefix);
    },
  };
}

/**
 * A system whose server and client are this package's own (server-main /
 * client-main). A `*-stream` client runs the server-streaming comparison.
 */
function ownSystem(init: { id: string; label: string; group: SystemGroup; inDefault?: boolean; server: string; client: string; connections: number }): BenchSystem {
  return {
    id: init.id,
    label: init.label,
    group: init.group,
    inDefault: init.inDefault ?? true,
    run(context) {
      const { settings, paths } = context;
      const token = randomUUID();
      const workload = ["--token", token, "--username", settings.username, "--letter", settings.letter, "--size", String(settings.sizeBytes)];
      return runServerClient(context, {
        systemId: init.id,
        serverArgs: [paths.serverMain, "--server", init.server, ...workload],
        clientArgs: (address, length) => [
          paths.clientMain,
          "--client",
          init.client,
          "--address",
          address,
          "--connections",
          String(init.connections),
          "--concurrency",
          String(settings.concurrency),
          ...lengthArgs(length, "--requests"),
          ...workload,
          ...(init.client.endsWith("-stream") ? ["--messages-per-stream", String(settings.messagesPerStream)] : []),
        ],
        parse: parseClientMainResult,
      });
    },
  };
}

/** `npm run bench -w @dora/runtime`: the runtime alone on its echo service (1-byte key, no metadata), as its package runs it. */
function runtimeBenchSystem(): BenchSystem {
  return {
    id: "runtime-bench",
    label: "npm run bench -w @dora/runtime (runtime alone, echo service)",
    group: "runtime-bench",
    inDefault: true,
    async run(context) {
      const { settings, paths } = context;
      const args = ["run", "-s", "bench", "-w", "@dora/runtime", "--", "--json", "--concurrency", String(settings.concurrency)];
      args.push("--seconds", String(settings.runtimeBenchSeconds), "--warmup", String(settings.warmupSeconds));
      const output = expectSuccess(
        "npm run bench -w @dora/runtime",
        await runProcess(process.platform === "win32" ? "npm.cmd" : "npm", args, { cwd: paths.root, env: cleanEnv(), timeoutMs: settings.clientTimeoutMs }),
      );
      const result = lastJsonLine(output.stdout);
      return {
        calls: numberField(result, "calls"),
        failures: 0,
        qps: numberField(result, "qps"),
        p50Us: numberField(result, "p50Ms") * 1000,
        p99Us: numberField(result, "p99Ms") * 1000,
        maxUs: numberField(result, "maxMs") * 1000,
        serverCpuUsPerCall: null,
        clientCpuUsPerCall: null,
        serverPeakRssMiB: null,
        clientPeakRssMiB: null,
      };
    },
  };
}

/** `dora-baseline`: dora's products as built in another checkout (`--baseline DIR`), run right after `dora` in each round. */
export function baselineSystem(root: string): BenchSystem {
  return doraSystem(root);
}

/** Every system, in the order each round runs them. */
export const SYSTEMS: readonly BenchSystem[] = [
  doraSystem(),
  mysqlWriteSystem(),
  ownSystem({ id: "raw", label: "raw bound: net + nap frames + protobuf-es Pkg, 1 connection", group: "raw", server: "raw", client: "raw", connections: 1 }),
  ownSystem({ id: "dora-runtime", label: "dora runtime alone, same workload (default pool of 10)", group: "dora-runtime", server: "runtime-kv", client: "runtime-kv", connections: 10 }),
  runtimeBenchSystem(),
  ownSystem({ id: "grpc-js-1", label: "@grpc/grpc-js, 1 channel", group: "grpc-js", server: "grpc-js", client: "grpc-js", connections: 1 }),
  ownSystem({ id: "grpc-js-12", label: "@grpc/grpc-js, 12 channels (local subchannel pool)", group: "grpc-js", server: "grpc-js", client: "grpc-js", connections: 12 }),
  ownSystem({ id: "connect-grpc-1", label: "Connect, gRPC protocol, HTTP/2, 1 connection", group: "connect", server: "connect", client: "connect-grpc", connections: 1 }),
  ownSystem({ id: "connect-grpc-12", label: "Connect, gRPC protocol, HTTP/2, 12 connections", group: "connect", server: "connect", client: "connect-grpc", connections: 12 }),
  ownSystem({ id: "connect-connect-1", label: "Connect, Connect protocol (binary), HTTP/2, 1 connection", group: "connect", server: "connect", client: "connect-connect", connections: 1 }),
  ownSystem({ id: "connect-connect-12", label: "Connect, Connect protocol (binary), HTTP/2, 12 connections", group: "connect", server: "connect", client: "connect-connect", connections: 12 }),
  ownSystem({ id: "connect-grpc-web-1", label: "Connect, gRPC-web protocol, HTTP/2, 1 connection", group: "connect", inDefault: false, server: "connect", client: "connect-grpc-web", connections: 1 }),
  ownSystem({ id: "connect-grpc-web-12", label: "Connect, gRPC-web protocol, HTTP/2, 12 connections", group: "connect", inDefault: false, server: "connect", client: "connect-grpc-web", connections: 12 }),
  ownSystem({
    id: "dora-stream",
    label: "dora runtime server streaming, 1 connection (messages, not calls)",
    group: "dora-stream",
    server: "runtime-kv",
    client: "runtime-kv-stream",
    connections: 1,
  }),
  ownSystem({
    id: "grpc-js-stream",
    label: "@grpc/grpc-js server streaming, 1 channel (messages, not calls)",
    group: "grpc-js-stream",
    server: "grpc-js",
    client: "grpc-js-stream",
    connections: 1,
  }),
];
