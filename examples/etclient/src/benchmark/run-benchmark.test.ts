import { Code, DoraError } from "@dora/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { CommandFailure } from "../app/command-failure.js";
import { startInProcessKv, type InProcessKv } from "../test-helpers/in-process-kv.js";
import type { Progress } from "./progress.js";
import { isUnreachable, runBenchmark, UNREACHABLE_PAUSE_MS, UNREACHABLE_STOP_MS, type BenchmarkClock } from "./run-benchmark.js";

const plan = { method: "read" as const, user: "100000", password: "100000", key: "c", value: "a", concurrency: 3, requests: 5 };

const servers: InProcessKv[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real etserver in process; `options.callMs` moves its clock forward with every call. */
function server(overrides: Parameters<typeof startInProcessKv>[0] = {}, options: Parameters<typeof startInProcessKv>[1] = {}): InProcessKv {
  const started = startInProcessKv(overrides, options);
  servers.push(started);
  return started;
}

/** The benchmark's clock on the server's: time passes only by calls (`callMs`) and by the benchmark's own pauses. */
function clockOf(server: InProcessKv): BenchmarkClock {
  return {
    now: () => server.clock.now(),
    sleep: (ms) => {
      server.clock.advance(ms);
      return Promise.resolve();
    },
  };
}

describe("runBenchmark", () => {
  it("logs in once for a numeric user and runs concurrency × requests calls with that session", async () => {
    const etserver = server();
    const { measurement, failures } = await runBenchmark(etserver.kv, plan);
    const logins = etserver.sent.filter((c) => c.rpc === "login");
    expect(logins).toHaveLength(1);
    const reads = etserver.sent.filter((c) => c.rpc === "read");
    expect(reads).toHaveLength(15);
    expect(new Set(reads.map((c) => c.meta["token"])).size).toBe(1);
    // A read of a missing key is a success: the call's dora status is Ok.
    expect(measurement).toMatchObject({ concurrency: 3, requestsPerWorker: 5, success: 15, failure: 0, username: "100000", method: "read", key: "c" });
    expect(measurement.latencies.totalCount).toBe(15);
    expect(measurement.minNs).toBeGreaterThan(0);
    expect(measurement.maxNs).toBeGreaterThanOrEqual(measurement.minNs);
    expect(failures.size).toBe(0);
  });

  it("gives each worker its own fleet user 100001…100000+c when --user is not numeric", async () => {
    const etserver = server();
    const { measurement } = await runBenchmark(etserver.kv, { ...plan, method: "write", user: "alice", password: "x", value: "z" });
    expect(etserver.sent.filter((c) => c.rpc === "login").map((c) => c.request["username"])).toEqual(["100001", "100002", "100003"]);
    const writers = new Set(etserver.sent.filter((c) => c.rpc === "write").map((c) => c.meta["username"]));
    expect(writers).toEqual(new Set(["100001", "100002", "100003"]));
    expect(measurement).toMatchObject({ success: 15, username: "100001..100003", method: "write", value: "z" });
  });

  it("fails before measuring when a login fails", async () => {
    const etserver = server();
    await expect(runBenchmark(etserver.kv, { ...plan, password: "wrong" })).rejects.toThrow(
      new CommandFailure("benchmark", "login as 100000 failed: incorrect username or password"),
    );
    expect(etserver.sent.filter((c) => c.rpc !== "login")).toHaveLength(0);
  });

  it("counts rejected calls as failures, grouped by cause", async () => {
    // A fixed quota of 10/s: a bucket of one token, and the server's clock does not move.
    const etserver = server({ quota: { source: "fixed", fixed: 10 } });
    const { measurement, failures } = await runBenchmark(etserver.kv, plan, undefined, clockOf(etserver));
    expect(measurement).toMatchObject({ success: 1, failure: 14 });
    expect([...failures]).toEqual([["Unavailable: rate limit", 14]]);
  });

  it("runs for --duration instead of a request count, and reports progress", async () => {
    const etserver = server({}, { callMs: 1 });
    const seen: string[] = [];
    const progress: Progress = { start: (t) => seen.push(`start ${t}`), update: () => {}, stop: () => seen.push("stop") };
    const { measurement } = await runBenchmark(etserver.kv, { ...plan, requests: 1, durationMs: 150 }, progress, clockOf(etserver));
    // Each call takes 1 ms of the clock: the three workers share 150 ms.
    expect(measurement.success).toBeGreaterThanOrEqual(150);
    expect(measurement.success).toBeLessThanOrEqual(150 + 3);
    expect(measurement.wallNs).toBeGreaterThanOrEqual(150e6);
    expect(measurement.requestsPerWorker).toBe(Math.round(measurement.success / 3));
    expect(seen).toEqual(["start 150", "stop"]);
  });

  it("stops, with what it measured, when no call can reach the server: workers pause instead of spinning on instant failures", async () => {
    const etserver = server();
    etserver.failCalls(new DoraError(Code.Unavailable, "no connection available: failed: connect ECONNREFUSED 127.0.0.1:9"));
    const { measurement, failures, stopped } = await runBenchmark(etserver.kv, { ...plan, concurrency: 4, requests: 10_000_000 }, undefined, clockOf(etserver));
    expect(stopped).toMatch(/^the server is unreachable: no call reached it for 750 ms \(Unavailable: no connection available/);
    expect(measurement.success).toBe(0);
    // At most one failure per pause and worker, plus the last one of each: no spin of millions.
    expect(measurement.failure).toBeGreaterThanOrEqual(4);
    expect(measurement.failure).toBeLessThanOrEqual(4 * (UNREACHABLE_STOP_MS / UNREACHABLE_PAUSE_MS + 2));
    expect(measurement.latencies.totalCount).toBe(measurement.failure);
    expect([...failures.values()].reduce((a, b) => a + b, 0)).toBe(measurement.failure);
  });

  it("does not stop while the server answers, even with failures (a rate limit is the server's Unavailable)", async () => {
    // A bucket of one token refilled every 100 ms, and calls of 1 ms: nearly every call is refused.
    const etserver = server({ quota: { source: "fixed", fixed: 10 } }, { callMs: 1 });
    const { measurement, failures, stopped } = await runBenchmark(etserver.kv, { ...plan, concurrency: 2, requests: 1, durationMs: UNREACHABLE_STOP_MS + 300 }, undefined, clockOf(etserver));
    expect(stopped).toBeUndefined();
    expect(failures.get("Unavailable: rate limit")).toBeGreaterThan(UNREACHABLE_STOP_MS);
    expect(measurement.wallNs).toBeGreaterThanOrEqual((UNREACHABLE_STOP_MS + 300) * 1e6);
  });

  it("tells the client's own connection failures from the server's Unavailable answers", () => {
    expect(isUnreachable(new DoraError(Code.Unavailable, "no connection available"))).toBe(true);
    expect(isUnreachable(new DoraError(Code.Unavailable, "connection to 127.0.0.1:4000 failed: connect ECONNREFUSED 127.0.0.1:4000"))).toBe(true);
    expect(isUnreachable(new DoraError(Code.Unavailable, "connection to 127.0.0.1:4000 closed by the server"))).toBe(true);
    expect(isUnreachable(new DoraError(Code.Unavailable, "rate limit"))).toBe(false);
    expect(isUnreachable(new DoraError(Code.Unavailable, "service temporarily unavailable"))).toBe(false);
    expect(isUnreachable(new DoraError(Code.DeadlineExceeded, "deadline exceeded"))).toBe(false);
  });
});
