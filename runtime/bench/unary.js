// Unary micro-benchmark: dora server and client in separate processes over
// loopback, N concurrent callers for a fixed time after a warm-up.
//   node bench/unary.js [--concurrency 12] [--seconds 5] [--warmup 1] [--pool 10] [--json]
// Prints QPS and latency percentiles (exact, from every call's latency).
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createClient } from "@dora/runtime";
import { echoMethod } from "./echo-service.js";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const concurrency = arg("concurrency", 12);
const seconds = arg("seconds", 5);
const warmup = arg("warmup", 1);
const poolSize = arg("pool", 10); // the client default
const json = process.argv.includes("--json");

const child = fork(fileURLToPath(new URL("./server.js", import.meta.url)), [], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
const [line] = await once(child.stdout, "data");
const port = Number(String(line).trim());

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

await run(warmup * 1000, undefined);
const latencies = [];
const { count, wallMs } = await run(seconds * 1000, latencies);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
const result = {
  benchmark: "dora unary",
  concurrency,
  poolSize,
  calls: count,
  seconds: +(wallMs / 1000).toFixed(3),
  qps: Math.round(count / (wallMs / 1000)),
  p50Ms: +pct(50).toFixed(3),
  p99Ms: +pct(99).toFixed(3),
  maxMs: +latencies[latencies.length - 1].toFixed(3),
};
if (json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`dora unary: ${concurrency} callers, pool ${poolSize}, ${result.seconds} s`);
  console.log(`  calls ${result.calls}  QPS ${result.qps}  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  max ${result.maxMs} ms`);
}
await client.close();
child.kill("SIGTERM");
