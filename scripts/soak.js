#!/usr/bin/env node
// `npm run soak`: a long run of real etclient benchmarks against one real etserver
// process (memory store, plaintext, 127.0.0.1), in chunks that alternate writes and
// reads. After each chunk it samples etserver's resident memory and open file
// descriptors from /proc. It passes (exit 0) when no call failed, resident memory grew
// by less than 10 % between the end of the warm-up (the first tenth of the calls,
// 200,000 of the default 2,000,000) and the end, and etserver's descriptors are back
// to their count before the first client connected. Not run in CI (minutes long);
// scripts/soak.test.ts runs a 100,000-call version.
//
//   node scripts/soak.js [--calls N] [--chunks K] [--concurrency C] [--json]
//
// --calls: total calls (default 2000000); --chunks: benchmarks they are split into
// (default 20); --concurrency: etclient workers (default 12); --json: print only the
// summary as one line of JSON.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const etserverBin = fileURLToPath(new URL("../examples/etserver/bin/etserver.js", import.meta.url));
const etclientBin = fileURLToPath(new URL("../examples/etclient/bin/etclient.js", import.meta.url));

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000000" },
    chunks: { type: "string", default: "20" },
    concurrency: { type: "string", default: "12" },
    json: { type: "boolean", default: false },
  },
});
const positive = (name) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`soak: --${name} must be a positive integer, got ${values[name]}`);
    process.exit(2);
  }
  return n;
};
const calls = positive("calls");
const chunks = positive("chunks");
const concurrency = positive("concurrency");
const perWorker = Math.ceil(calls / chunks / concurrency);
const callsPerChunk = perWorker * concurrency;
/** The chunk whose end is the warm-up mark: the first tenth of the calls. */
const warmChunk = Math.max(1, Math.round(chunks / 10));
const say = values.json ? () => {} : (line) => console.log(line);

/** A field of /proc/PID/status, in kB. */
function statusKb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]);
}
const openFds = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
const mb = (kb) => Math.round((kb / 1024) * 10) / 10;

const server = spawn(process.execPath, [etserverBin, "serve", "--listen", "127.0.0.1:0", "--store", "memory", "--no-tls", "--log-level", "warn"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
const stopServer = () => {
  if (server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
};
process.on("exit", stopServer);

const address = await new Promise((resolve, reject) => {
  server.once("exit", (code) => reject(new Error(`etserver exited with code ${code} before listening`)));
  createInterface({ input: server.stdout }).once("line", (line) => {
    const m = /^etserver listening on (\S+)$/.exec(line);
    if (m === null) reject(new Error(`unexpected first line from etserver: ${line}`));
    else resolve(m[1]);
  });
}).catch((err) => {
  console.error(`soak: ${err.message}`);
  process.exit(1);
});
server.removeAllListeners("exit");
server.once("exit", (code, signal) => {
  console.error(`soak: etserver exited during the run (code ${code}, signal ${signal})`);
  process.exit(1);
});
const pid = server.pid;
const fdsAtStart = openFds(pid);
say(`etserver pid ${pid} on ${address}: ${fdsAtStart} open descriptors, RSS ${mb(statusKb(pid, "VmRSS"))} MB`);
say(`${chunks} benchmarks of ${callsPerChunk} calls (${concurrency} workers × ${perWorker}), writes and reads alternating`);

/** Runs one etclient benchmark; resolves with its report object. */
function benchmark(kind) {
  const args = [etclientBin, "benchmark", kind, "-u", "100000", "-p", "100000", "-k", "s", ...(kind === "write" ? ["-v", "k"] : []), "-c", String(concurrency), "-r", String(perWorker), "--address", address, "--json"];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.once("exit", (code) => {
      try {
        const report = JSON.parse(out.trim().split("\n").pop());
        resolve({ ...report, exitCode: code });
      } catch {
        reject(new Error(`etclient benchmark ${kind} exited ${code} without a report: ${err.trim()}`));
      }
    });
  });
}

const started = Date.now();
const samples = [];
let success = 0;
let failure = 0;
for (let i = 1; i <= chunks; i++) {
  const kind = i % 2 === 1 ? "write" : "read";
  const report = await benchmark(kind);
  success += report.Success;
  failure += report.Failure;
  const sample = { calls: i * callsPerChunk, kind, qps: Math.round(report.QPS), failures: report.Failure, rssKb: statusKb(pid, "VmRSS"), fds: openFds(pid) };
  samples.push(sample);
  say(`${String(sample.calls).padStart(9)} calls  ${kind.padEnd(5)} ${String(sample.qps).padStart(6)} calls/s  failures ${sample.failures}  RSS ${mb(sample.rssKb)} MB  fds ${sample.fds}`);
}
const seconds = (Date.now() - started) / 1000;

// Descriptors: the last client has exited; etserver closes its side as it sees each close.
let fdsAtEnd = openFds(pid);
for (let waited = 0; fdsAtEnd !== fdsAtStart && waited < 10_000; waited += 100) {
  await new Promise((r) => setTimeout(r, 100));
  fdsAtEnd = openFds(pid);
}
const warm = samples[warmChunk - 1];
const last = samples[samples.length - 1];
const rssGrowth = (last.rssKb - warm.rssKb) / warm.rssKb;
const summary = {
  calls: success + failure,
  success,
  failure,
  seconds: Math.round(seconds),
  qps: Math.round((success + failure) / seconds),
  warmCalls: warm.calls,
  rssAtWarmMb: mb(warm.rssKb),
  rssAtEndMb: mb(last.rssKb),
  rssGrowthPercent: Math.round(rssGrowth * 1000) / 10,
  peakRssMb: mb(statusKb(pid, "VmHWM")),
  fdsAtStart,
  fdsAtEnd,
};
const ok = failure === 0 && success === chunks * callsPerChunk && rssGrowth < 0.1 && fdsAtEnd === fdsAtStart;
server.removeAllListeners("exit");
stopServer();
if (values.json) console.log(JSON.stringify({ ...summary, ok }));
else {
  say(
    `\n${summary.calls} calls in ${summary.seconds} s (${summary.qps} calls/s): ${success} succeeded, ${failure} failed; ` +
      `RSS ${summary.rssAtWarmMb} MB after ${warm.calls} calls, ${summary.rssAtEndMb} MB at the end (${summary.rssGrowthPercent} %), peak ${summary.peakRssMb} MB; ` +
      `descriptors ${fdsAtStart} at start, ${fdsAtEnd} at the end`,
  );
  say(ok ? "soak passed" : "soak FAILED");
}
process.exitCode = ok ? 0 : 1;
