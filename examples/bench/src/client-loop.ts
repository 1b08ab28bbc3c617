import type { BenchClient, BenchStreamClient } from "./clients/bench-client.js";
import { LatencyHistogram, type ClientRunResult } from "./latency.js";

/** How long a client runs: a number of calls per caller, or a time. */
export type RunLength = { requestsPerCaller: number } | { seconds: number };

/**
 * Runs `concurrency` callers against `client`, each awaiting its answer
 * before its next call, for `length`; records every call's latency.
 * The loop etclient's benchmark runs, shared by every other client here.
 */
export async function runCallers(client: BenchClient, concurrency: number, length: RunLength): Promise<ClientRunResult> {
  const histogram = new LatencyHistogram();
  let success = 0;
  let failure = 0;
  const deadline = "seconds" in length ? performance.now() + length.seconds * 1000 : Infinity;
  const perCaller = "requestsPerCaller" in length ? length.requestsPerCaller : Infinity;
  const caller = async (index: number): Promise<void> => {
    for (let i = 0; i < perCaller && performance.now() < deadline; i++) {
      const t0 = performance.now();
      const ok = await client.call(index);
      histogram.record((performance.now() - t0) * 1e6);
      if (ok) success++;
      else failure++;
    }
  };
  const wallSeconds = await runConcurrently(concurrency, caller);
  return resultOf(success, failure, wallSeconds, histogram);
}

/**
 * Runs `concurrency` callers against a streaming `client` for `length`
 * (`requestsPerCaller` counts messages): each caller opens one stream of
 * `messagesPerStream` messages (fewer for its last) after another. A
 * message's latency is the time since the previous message of its stream
 * arrived, or since the stream was opened for the first. Messages asked for
 * but not received with the expected content are failures.
 */
export async function runStreamCallers(client: BenchStreamClient, concurrency: number, length: RunLength, messagesPerStream: number): Promise<ClientRunResult> {
  const histogram = new LatencyHistogram();
  let success = 0;
  let failure = 0;
  const deadline = "seconds" in length ? performance.now() + length.seconds * 1000 : Infinity;
  const perCaller = "requestsPerCaller" in length ? length.requestsPerCaller : Infinity;
  const caller = async (index: number): Promise<void> => {
    let asked = 0;
    while (asked < perCaller && performance.now() < deadline) {
      const messages = Math.min(messagesPerStream, perCaller - asked);
      asked += messages;
      let last = performance.now();
      const good = await client.stream(index, messages, () => {
        const now = performance.now();
        histogram.record((now - last) * 1e6);
        last = now;
      });
      success += good;
      failure += messages - good;
    }
  };
  const wallSeconds = await runConcurrently(concurrency, caller);
  return resultOf(success, failure, wallSeconds, histogram);
}

/** Runs `caller(0)` … `caller(concurrency − 1)` at once; resolves with the seconds until all ended. */
async function runConcurrently(concurrency: number, caller: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, index) => caller(index)));
  return (performance.now() - started) / 1000;
}

/** A run's result from its counts, its wall time and its latency histogram. */
function resultOf(success: number, failure: number, wallSeconds: number, histogram: LatencyHistogram): ClientRunResult {
  const calls = success + failure;
  return {
    calls,
    success,
    failure,
    wallSeconds,
    qps: calls / wallSeconds,
    p50Us: histogram.percentileUs(50),
    p99Us: histogram.percentileUs(99),
    maxUs: histogram.maxUs,
  };
}
