/**
 * `npm run bench`: the side-by-side comparison. Runs every selected system
 * once per round, in the same order each round (A B C D, A B C D, …), each
 * with its own server process and a separate client process on 127.0.0.1,
 * then writes the results to examples/bench/results/ (markdown and JSON)
 * and prints the table.
 */
import { cpus, loadavg } from "node:os";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { nonNegative, positiveInt } from "./args.js";
import { killAll } from "./processes.js";
import { summarizeProfileDir } from "./profile.js";
import { ratios, summarize, toMarkdown, type BenchReport, type RunRecord } from "./report.js";
import { benchPaths, type BenchSettings } from "./settings.js";
import { DEFAULT_STORES, mysqlDatabase, SkipSystem } from "./stores.js";
import { baselineSystem, SYSTEMS, type BenchSystem } from "./systems.js";
import { DEFAULT_STREAM_WORKLOAD, DEFAULT_WORKLOAD } from "./workload.js";

const HELP = `Usage: npm run bench [-- options]

Runs dora (etserver + etclient: reads on the memory store, writes on the MySQL store), the dora runtime alone, @grpc/grpc-js, Connect and a
raw-socket bound on one workload, and the dora runtime's and @grpc/grpc-js's server
streaming on one streaming workload, interleaved in rounds, and writes
examples/bench/results/bench-<time>.{md,json} and latest.{md,json}.

Options:
  --rounds N            rounds (default 3)
  --requests N          calls per caller in each measured run; messages per caller for
                        the streaming systems (default ${DEFAULT_WORKLOAD.requestsPerCaller})
  --messages-per-stream N
                        messages on each stream of the streaming systems (default ${DEFAULT_STREAM_WORKLOAD.messagesPerStream})
  --concurrency N       concurrent callers (default ${DEFAULT_WORKLOAD.concurrency})
  --warmup S            seconds of warm-up before each measured run (default ${DEFAULT_WORKLOAD.warmupSeconds})
  --size N              bytes of key and value (default ${DEFAULT_WORKLOAD.sizeBytes})
  --runtime-seconds S   measured seconds of npm run bench -w @dora/runtime (default 6)
  --systems A,B         systems or groups to run (default: all but gRPC-web); see --list
  --quick               development mode: 1 round, 500 calls per caller, 0.5 s warm-up
  --out DIR             where results go (default examples/bench/results)
  --baseline DIR        also run dora's etserver and etclient as built in DIR (another checkout,
                        npm ci and npm run build done there) as system dora-baseline, right after
                        dora in every round, with the ratios dora / dora-baseline
  --cpu-prof DIR        run servers and measured clients under node --cpu-prof, profiles in DIR,
                        and add each process's top self-time functions to the report
  --mysql-url URL       MySQL of dora-mysql-write; its database is the bench's own, created by
                        etserver migrate and left in place (default ${DEFAULT_STORES.mysqlUrl})
  --redis-url URL       Redis of dora-mysql-write (default ${DEFAULT_STORES.redisUrl})
  --redis-prefix P      its Redis key prefix; keys under it are deleted at the start and end
                        (default ${DEFAULT_STORES.redisPrefix})
                        dora-mysql-write is skipped when MySQL or Redis does not answer
  --list                list the systems and exit
  -h, --help            this help
`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      rounds: { type: "string" },
      requests: { type: "string" },
      "messages-per-stream": { type: "string" },
      concurrency: { type: "string" },
      warmup: { type: "string" },
      size: { type: "string" },
      "runtime-seconds": { type: "string" },
      systems: { type: "string" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      "cpu-prof": { type: "string" },
      baseline: { type: "string" },
      "mysql-url": { type: "string" },
      "redis-url": { type: "string" },
      "redis-prefix": { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const options = parsed.values;
if (options.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (options.list) {
  for (const s of SYSTEMS) process.stdout.write(`${s.id.padEnd(20)} ${s.group.padEnd(16)} ${s.inDefault ? "   " : "(*)"} ${s.label}\n`);
  process.stdout.write("(*) only when named in --systems\n");
  process.exit(0);
}

function selectSystems(list: string | undefined): BenchSystem[] {
  if (list === undefined) return SYSTEMS.filter((s) => s.inDefault);
  const names = list.split(",").map((n) => n.trim()).filter((n) => n !== "");
  for (const name of names) {
    if (!SYSTEMS.some((s) => s.id === name || s.group === name)) fail(`--systems: unknown system or group ${JSON.stringify(name)} (see --list)`);
  }
  return SYSTEMS.filter((s) => names.includes(s.id) || (names.includes(s.group) && s.inDefault));
}

/** `text` as a URL of one of `protocols`, else throws naming `name` (never echoing the URL: it may hold a password). */
function storeUrl(name: string, text: string, protocols: string[]): string {
  let protocol: string;
  try {
    protocol = new URL(text).protocol;
  } catch {
    throw new Error(`${name} is not a URL`);
  }
  if (!protocols.includes(protocol)) throw new Error(`${name} must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL`);
  return text;
}

const paths = benchPaths();
let settings: BenchSettings;
try {
  const quick = options.quick;
  settings = {
    rounds: positiveInt("--rounds", options.rounds ?? (quick ? "1" : "3")),
    concurrency: positiveInt("--concurrency", options.concurrency ?? String(DEFAULT_WORKLOAD.concurrency)),
    requestsPerCaller: positiveInt("--requests", options.requests ?? (quick ? "500" : String(DEFAULT_WORKLOAD.requestsPerCaller))),
    messagesPerStream: positiveInt("--messages-per-stream", options["messages-per-stream"] ?? String(DEFAULT_STREAM_WORKLOAD.messagesPerStream)),
    warmupSeconds: nonNegative("--warmup", options.warmup ?? (quick ? "0.5" : String(DEFAULT_WORKLOAD.warmupSeconds))),
    sizeBytes: positiveInt("--size", options.size ?? String(DEFAULT_WORKLOAD.sizeBytes)),
    runtimeBenchSeconds: nonNegative("--runtime-seconds", options["runtime-seconds"] ?? (quick ? "1" : "6")),
    username: DEFAULT_WORKLOAD.username,
    password: DEFAULT_WORKLOAD.password,
    letter: DEFAULT_WORKLOAD.letter,
    cpuProfDir: options["cpu-prof"] === undefined ? undefined : resolve(options["cpu-prof"]),
    clientTimeoutMs: 15 * 60_000,
    stores: {
      mysqlUrl: storeUrl("--mysql-url", options["mysql-url"] ?? DEFAULT_STORES.mysqlUrl, ["mysql:"]),
      redisUrl: storeUrl("--redis-url", options["redis-url"] ?? DEFAULT_STORES.redisUrl, ["redis:", "rediss:"]),
      redisPrefix: options["redis-prefix"] ?? DEFAULT_STORES.redisPrefix,
    },
  };
  if (settings.stores.redisPrefix === "") throw new Error("--redis-prefix must not be empty (its keys are deleted)");
  try {
    mysqlDatabase(settings.stores.mysqlUrl);
  } catch (error) {
    throw new Error(`--mysql-url: ${error instanceof Error ? error.message : String(error)}`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const systems = selectSystems(options.systems);
if (options.baseline !== undefined) {
  const root = resolve(options.baseline);
  if (!existsSync(join(root, "examples/etserver/dist")) || !existsSync(join(root, "examples/etclient/dist"))) fail(`--baseline: ${root} has no built etserver and etclient (run npm ci and npm run build there)`);
  const at = systems.findIndex((s) => s.id === "dora");
  systems.splice(at === -1 ? 0 : at + 1, 0, baselineSystem(root));
}
const outDir = options.out === undefined ? join(paths.benchDir, "results") : isAbsolute(options.out) ? options.out : resolve(options.out);

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAll();
    process.stderr.write(`\nbench: interrupted (${signal}); its servers and clients are stopped\n`);
    process.exit(130);
  });
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const startedAt = new Date();
const loadAverageAtStart = loadavg()[0] ?? 0;
const runs: RunRecord[] = [];
const totalRuns = settings.rounds * systems.length;
const stamp = startedAt.toISOString().replace(/[:.]/g, "-");

/** The report of the runs so far; `complete` once every run is done. */
function buildReport(complete: boolean): BenchReport {
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: complete ? new Date().toISOString() : null,
    completedRuns: runs.length,
    plannedRuns: totalRuns,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? "unknown", node: process.version, platform: `${process.platform} ${process.arch}`, loadAverageAtStart },
    settings: {
      rounds: settings.rounds,
      concurrency: settings.concurrency,
      requestsPerCaller: settings.requestsPerCaller,
      messagesPerStream: settings.messagesPerStream,
      warmupSeconds: settings.warmupSeconds,
      sizeBytes: settings.sizeBytes,
      runtimeBenchSeconds: settings.runtimeBenchSeconds,
      username: settings.username,
      password: settings.password,
      letter: settings.letter,
    },
    systems: summarize(systems, runs),
    ratios: ratios(systems, runs, settings.rounds),
    runs,
  };
  if (complete && settings.cpuProfDir !== undefined) report.profiles = summarizeProfileDir(settings.cpuProfDir, paths.root);
  return report;
}

/** Writes the report so far to bench-<time>.{md,json} and latest.{md,json}; after every run, so an interrupted run keeps what it measured. */
function writeReport(report: BenchReport): string {
  mkdirSync(outDir, { recursive: true });
  const markdown = toMarkdown(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(outDir, `bench-${stamp}.md`), markdown);
  writeFileSync(join(outDir, `bench-${stamp}.json`), json);
  writeFileSync(join(outDir, "latest.md"), markdown);
  writeFileSync(join(outDir, "latest.json"), json);
  return markdown;
}

process.stderr.write(`bench: ${systems.length} systems × ${settings.rounds} round(s), ${settings.concurrency} callers × ${settings.requestsPerCaller} calls, ${settings.sizeBytes}-byte key and value\n`);

/** Systems whose prepare step failed, and why: each of their runs is recorded with it instead of run. */
const notRun = new Map<string, { skipped: boolean; reason: string }>();
/** Systems whose prepare step succeeded: their finish step runs at the end. */
const prepared: BenchSystem[] = [];
for (const system of systems) {
  if (system.prepare === undefined) continue;
  process.stderr.write(`[prepare] ${system.id} … `);
  try {
    await system.prepare({ settings, paths });
    prepared.push(system);
    process.stderr.write("ready\n");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const skipped = error instanceof SkipSystem;
    notRun.set(system.id, { skipped, reason: skipped ? reason : `prepare failed: ${reason}` });
    process.stderr.write(`${skipped ? "skipped" : "failed"}: ${reason}\n`);
  }
}

for (let round = 1; round <= settings.rounds; round++) {
  for (const system of systems) {
    const cannot = notRun.get(system.id);
    if (cannot !== undefined) {
      runs.push({ system: system.id, round, ok: false, error: cannot.reason, ...(cannot.skipped ? { skipped: true as const } : {}) });
      if (runs.length < totalRuns) writeReport(buildReport(false));
      continue;
    }
    process.stderr.write(`[round ${round}/${settings.rounds}] ${system.id} … `);
    try {
      const m = await system.run({ settings, paths, round });
      runs.push({ system: system.id, round, ok: true, ...m });
      process.stderr.write(`${fmt(m.qps)} QPS, p50 ${fmt(m.p50Us)} µs, p99 ${fmt(m.p99Us)} µs${m.failures > 0 ? `, ${m.failures} failures` : ""}\n`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      runs.push({ system: system.id, round, ok: false, error: message });
      process.stderr.write(`failed: ${message}\n`);
    }
    if (runs.length < totalRuns) writeReport(buildReport(false));
  }
}

for (const system of prepared) {
  try {
    await system.finish?.({ settings, paths });
  } catch (error) {
    process.stderr.write(`bench: ${system.id}'s clean-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

const markdown = writeReport(buildReport(true));
process.stdout.write(`\n${markdown}\nResults: ${join(outDir, `bench-${stamp}.md`)} (and .json, latest.md, latest.json)\n`);
