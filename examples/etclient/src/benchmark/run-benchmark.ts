import { Code, DoraError } from "@dora/runtime";
import type { KvServiceClient } from "@dora/tiger/kv/v1";
import { CommandFailure, describeCallError } from "../app/command-failure.js";
import { logIn } from "../app/log-in.js";
import { Session } from "../app/session.js";
import { LatencyRecorder } from "./latency-recorder.js";
import { noProgress, type Progress } from "./progress.js";
import type { BenchmarkMeasurement, BenchmarkMethod } from "./report.js";

/** First username of the per-worker fleet used when `--user` is not numeric: workers log in as 100001…100000+c. */
export const WORKER_USER_BASE = 100_000;

/** What to measure. */
export interface BenchmarkPlan {
  readonly method: BenchmarkMethod;
  /** `--user`: numeric → one login shared by all workers; otherwise workers log in as 100001…100000+c. */
  readonly user: string;
  /** `--password` for a numeric `--user` (fleet users log in with their username as password). */
  readonly password: string;
  readonly key: string;
  readonly value: string;
  /** Workers, ≥ 1. */
  readonly concurrency: number;
  /** Requests per worker; ignored when `durationMs` is set. */
  readonly requests: number;
  /** Run each worker this long instead of `requests` calls, in milliseconds. */
  readonly durationMs?: number | undefined;
}

/**
 * How long the benchmark goes on when no call reaches the server (every
 * pooled connection is down and reconnects fail) before it stops, in
 * milliseconds.
 */
export const UNREACHABLE_STOP_MS = 750;
/** How long a worker pauses after a call that found no connection, so it does not spin recording instant failures, in milliseconds. */
export const UNREACHABLE_PAUSE_MS = 50;

/**
 * True for a call that failed because no connection to the server could be
 * used (the runtime client's own `Unavailable`: no connection available, or
 * the connection failed or was closed), as opposed to an `Unavailable` the
 * server answered (rate limit, a store that is down).
 */
export function isUnreachable(error: unknown): boolean {
  return error instanceof DoraError && error.code === Code.Unavailable && /^(no connection available|connection to \S+ (failed|closed))/.test(error.rawMessage);
}

/** Where the benchmark reads the time and waits; tests pass a virtual one. */
export interface BenchmarkClock {
  /** Milliseconds from an arbitrary origin. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now()` (a number: no allocation per call) and a timer. */
export const systemBenchmarkClock: BenchmarkClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Failures grouped by their one-line description (`Unavailable: rate limit`), with counts. */
export type FailureTally = Map<string, number>;

/** The measurement plus a breakdown of the failures, for a summary on stderr. */
export interface BenchmarkOutcome {
  readonly measurement: BenchmarkMeasurement;
  readonly failures: FailureTally;
  /**
   * Why the benchmark stopped before its end: set when no call reached the
   * server for {@link UNREACHABLE_STOP_MS} (the server is gone). The
   * measurement covers what was done until then.
   */
  readonly stopped?: string;
}

/**
 * Runs a benchmark (SPEC §7): logs in first — failing with a
 * {@link CommandFailure} before measuring if any login fails — then runs
 * `concurrency` workers, each issuing its calls one after another over the
 * shared (pooled) client, and records every completed call's latency.
 * Success = the call returned (dora status Ok; a read of a missing key
 * included); failure = it rejected.
 *
 * When every connection is down and reconnects fail, a worker pauses
 * {@link UNREACHABLE_PAUSE_MS} after each such failure instead of spinning,
 * and once no call has reached the server for {@link UNREACHABLE_STOP_MS}
 * every worker stops and the outcome says why (`stopped`).
 */
export async function runBenchmark(api: KvServiceClient, plan: BenchmarkPlan, progress: Progress = noProgress, clock: BenchmarkClock = systemBenchmarkClock): Promise<BenchmarkOutcome> {
  const sessions = await loginWorkers(api, plan);
  const recorder = new LatencyRecorder();
  const failures: FailureTally = new Map();
  let success = 0;
  let failure = 0;
  // The request and the call options of a worker are built once: a session's metadata does not change during the run.
  const readRequest = { key: plan.key };
  const writeRequest = { key: plan.key, value: plan.value };
  const callOf = (session: Session): (() => Promise<unknown>) => {
    const options = { meta: session.meta() };
    return plan.method === "read" ? () => api.readSecureMessage(readRequest, options) : () => api.writeSecureMessage(writeRequest, options);
  };

  // Times are the clock's milliseconds.
  const durationMs = plan.durationMs;
  const startMs = clock.now();
  const endMs = durationMs === undefined ? undefined : startMs + durationMs;
  progress.start(durationMs === undefined ? plan.concurrency * plan.requests : Math.round(durationMs));
  const ticker = setInterval(() => {
    progress.update(durationMs === undefined ? success + failure : Math.min(durationMs, Math.round(clock.now() - startMs)));
  }, 100);
  ticker.unref();

  // When a call last got an answer from the server (or the start), for the unreachable-server stop.
  let lastReachedMs = startMs;
  let stopped: string | undefined;
  const worker = async (session: Session): Promise<void> => {
    const call = callOf(session);
    for (let i = 0; stopped === undefined && (endMs === undefined ? i < plan.requests : clock.now() < endMs); i++) {
      const t0 = clock.now();
      let unreachable: string | undefined;
      let answered = true;
      try {
        await call();
        success++;
      } catch (error) {
        failure++;
        const what = describeCallError(error);
        failures.set(what, (failures.get(what) ?? 0) + 1);
        if (isUnreachable(error)) unreachable = what;
        // A call that timed out or was canceled got no answer, but did not prove the server gone either.
        else if (error instanceof DoraError && (error.code === Code.DeadlineExceeded || error.code === Code.Canceled)) answered = false;
      }
      const t1 = clock.now();
      recorder.record((t1 - t0) * 1e6);
      if (unreachable === undefined) {
        if (answered) lastReachedMs = t1;
      } else if (t1 - lastReachedMs >= UNREACHABLE_STOP_MS) {
        stopped ??= `the server is unreachable: no call reached it for ${UNREACHABLE_STOP_MS} ms (${unreachable})`;
      } else {
        await clock.sleep(UNREACHABLE_PAUSE_MS);
      }
    }
  };
  try {
    await Promise.all(sessions.map(worker));
  } finally {
    clearInterval(ticker);
    progress.update(durationMs === undefined ? success + failure : Math.round(durationMs));
    progress.stop();
  }
  const wallNs = Math.round((clock.now() - startMs) * 1e6);
  const completed = success + failure;
  return {
    measurement: {
      concurrency: plan.concurrency,
      requestsPerWorker: durationMs === undefined ? plan.requests : Math.round(completed / plan.concurrency),
      success,
      failure,
      wallNs,
      minNs: recorder.minNs,
      maxNs: recorder.maxNs,
      sumNs: recorder.sumNs,
      latencies: recorder,
      username: reportedUsername(plan),
      method: plan.method,
      key: plan.key,
      value: plan.value,
    },
    failures,
    ...(stopped === undefined ? {} : { stopped }),
  };
}

/** True when `user` is a decimal number, the case where all workers share one login. */
export function isNumericUser(user: string): boolean {
  return /^\d+$/.test(user);
}

async function loginWorkers(api: KvServiceClient, plan: BenchmarkPlan): Promise<Session[]> {
  if (isNumericUser(plan.user)) {
    const session = await login(api, plan.user, plan.password);
    return Array.from({ length: plan.concurrency }, () => session);
  }
  const users = Array.from({ length: plan.concurrency }, (_, i) => String(WORKER_USER_BASE + i + 1));
  return Promise.all(users.map((user) => login(api, user, user)));
}

async function login(api: KvServiceClient, username: string, password: string): Promise<Session> {
  const session = new Session(username);
  const refused = await logIn(api, session, password);
  if (refused !== undefined) throw new CommandFailure("benchmark", `login as ${username} failed: ${refused.reason}`, { cause: refused.cause });
  return session;
}

function reportedUsername(plan: BenchmarkPlan): string {
  if (isNumericUser(plan.user)) return plan.user;
  const first = WORKER_USER_BASE + 1;
  return plan.concurrency === 1 ? String(first) : `${first}..${WORKER_USER_BASE + plan.concurrency}`;
}
