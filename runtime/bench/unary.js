// Unary micro-benchmark: dora server and client in separate processes over
// loopback, N concurrent callers for a fixed time after a warm-up.
//   node bench/unary.js [--concurrency 12] [--seconds 5] [--warmup 1] [--pool 10]
//                       [--baseline DIR] [--rounds 3] [--json]
// Prints QPS, latency percentiles (exact, from every call's latency) and the CPU
// time each call costs the client and the server process (user + system), a
// figure that moves far less than QPS on a machine shared with other work.
//
// --baseline DIR compares this build with another build of the runtime (DIR
// holds its dist/, e.g. a copy of runtime/dist taken before a change, kept
// where it resolves @bufbuild/protobuf, such as node_modules/.bench-baseline): the
// two run in turn, `--rounds` times each, server and client of the same
// build, and the report puts them side by side. Compare builds only within
// one such run: the figure moves between runs on a shared machine.
import { fork } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { echoMethod } from "./echo-service.js";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const concurrency = Number(arg("concurrency", 12));
const seconds = Number(arg("seconds", 5));
const warmup = Number(arg("warmup", 1));
const poolSize = Number(arg("pool", 10)); // the client default
const baselineDir = arg("baseline", undefined);
const rounds = Number(arg("rounds", baselineDir === undefined ? 1 : 3));
const json = process.argv.includes("--json");

/** The builds to measure: this workspace's runtime and, with --baseline, another one. */
const builds = [{ name: "current", entry: undefined }];
// Relative to where npm was run (npm runs this script in runtime/).
if (baselineDir !== undefined) builds.push({ name: "baseline", entry: path.resolve(process.env.INIT_CWD ?? process.cwd(), baselineDir, "dist", "index.js") });

async function measure(build) {
  const child = fork(fileURLToPath(new URL("./server.js", import.meta.url)), [], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, DORA_RUNTIME: build.entry ?? "" },
  });
  const [line] = await once(child.stdout, "data");
  const port = Number(String(line).trim());
  const { createClient } = await import(build.entry === undefined ? "@dora/runtime" : pathToFileURL(build.entry).href);
  const client = createClient({ address: `127.0.0.1:${port}`, poolSize });
  const request = { key: "c" };

  async function run(ms, latencies) {
    const end = performance.now() + ms;
    let count = 0;
    const worker = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await client.unary(echoMethod, request);
        if (latencies !== undefined) latencies.push(performance.now() - t0);
        count++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { count, wallMs: performance.now() - t0 };
  }

  const serverCpu = () =>
    new Promise((resolve) => {
      child.once("message", (usage) => resolve(usage.user + usage.system));
      child.send("cpu");
    });
  await run(warmup * 1000, undefined);
  const latencies = [];
  const serverBefore = await serverCpu();
  const clientBefore = process.cpuUsage();
  const { count, wallMs } = await run(seconds * 1000, latencies);
  const clientUsage = process.cpuUsage(clientBefore);
  const serverUs = (await serverCpu()) - serverBefore;
  await client.close();
  child.kill("SIGTERM");
  await once(child, "exit");
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  return {
    benchmark: "dora unary",
    build: build.name,
    concurrency,
    poolSize,
    calls: count,
    seconds: +(wallMs / 1000).toFixed(3),
    qps: Math.round(count / (wallMs / 1000)),
    p50Ms: +pct(50).toFixed(3),
    p99Ms: +pct(99).toFixed(3),
    maxMs: +latencies[latencies.length - 1].toFixed(3),
    clientCpuUsPerCall: +((clientUsage.user + clientUsage.system) / count).toFixed(2),
    serverCpuUsPerCall: +(serverUs / count).toFixed(2),
  };
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const build of builds) {
    const result = await measure(build);
    results.push({ round, ...result });
    if (json) console.log(JSON.stringify(result));
    else {
      const label = builds.length > 1 ? `${build.name.padEnd(8)} round ${round}: ` : "";
      if (results.length === 1) console.log(`dora unary: ${concurrency} callers, pool ${poolSize}, ${seconds} s per run`);
      console.log(
        `  ${label}calls ${result.calls}  QPS ${result.qps}  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  max ${result.maxMs} ms  CPU/call client ${result.clientCpuUsPerCall} µs server ${result.serverCpuUsPerCall} µs`,
      );
    }
  }
}
if (!json && builds.length > 1) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const build of builds) {
    const mine = results.filter((r) => r.build === build.name);
    console.log(
      `  ${build.name.padEnd(8)} median of ${mine.length}: QPS ${median(mine.map((r) => r.qps))}  p50 ${median(mine.map((r) => r.p50Ms))} ms  p99 ${median(mine.map((r) => r.p99Ms))} ms  CPU/call client ${median(mine.map((r) => r.clientCpuUsPerCall))} µs server ${median(mine.map((r) => r.serverCpuUsPerCall))} µs`,
    );
  }
}
