import { describeStatus, KvCode, statusCode } from "../app/business-status.js";
import { CommandFailure, describeCallError } from "../app/command-failure.js";
import type { KvApi } from "../app/kv-api.js";
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

/** Failures grouped by their one-line description (`Unavailable: rate limit`), with counts. */
export type FailureTally = Map<string, number>;

/** The measurement plus a breakdown of the failures, for a summary on stderr. */
export interface BenchmarkOutcome {
  readonly measurement: BenchmarkMeasurement;
  readonly failures: FailureTally;
}

/**
 * Runs a benchmark (SPEC §7): logs in first — failing with a
 * {@link CommandFailure} before measuring if any login fails — then runs
 * `concurrency` workers, each issuing its calls one after another over the
 * shared (pooled) client, and records every completed call's latency.
 * Success = the call returned (dora status Ok; a read of a missing key
 * included); failure = it rejected.
 */
export async function runBenchmark(api: KvApi, plan: BenchmarkPlan, progress: Progress = noProgress): Promise<BenchmarkOutcome> {
  const sessions = await loginWorkers(api, plan);
  const recorder = new LatencyRecorder();
  const failures: FailureTally = new Map();
  let success = 0;
  let failure = 0;
  const call =
    plan.method === "read"
      ? (session: Session) => api.readSecureMessage({ key: plan.key }, { meta: session.meta() })
      : (session: Session) => api.writeSecureMessage({ key: plan.key, value: plan.value }, { meta: session.meta() });

  const durationMs = plan.durationMs;
  const startNs = process.hrtime.bigint();
  const endNs = durationMs === undefined ? undefined : startNs + BigInt(Math.round(durationMs * 1e6));
  progress.start(durationMs === undefined ? plan.concurrency * plan.requests : Math.round(durationMs));
  const ticker = setInterval(() => {
    progress.update(durationMs === undefined ? success + failure : Math.min(durationMs, Math.round(Number(process.hrtime.bigint() - startNs) / 1e6)));
  }, 100);
  ticker.unref();

  const worker = async (session: Session): Promise<void> => {
    for (let i = 0; endNs === undefined ? i < plan.requests : process.hrtime.bigint() < endNs; i++) {
      const t0 = process.hrtime.bigint();
      try {
        await call(session);
        success++;
      } catch (error) {
        failure++;
        const what = describeCallError(error);
        failures.set(what, (failures.get(what) ?? 0) + 1);
      }
      recorder.record(Number(process.hrtime.bigint() - t0));
    }
  };
  try {
    await Promise.all(sessions.map(worker));
  } finally {
    clearInterval(ticker);
    progress.update(durationMs === undefined ? success + failure : Math.round(durationMs));
    progress.stop();
  }
  const wallNs = Number(process.hrtime.bigint() - startNs);
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
  };
}

/** True when `user` is a decimal number, the case where all workers share one login. */
export function isNumericUser(user: string): boolean {
  return /^\d+$/.test(user);
}

async function loginWorkers(api: KvApi, plan: BenchmarkPlan): Promise<Session[]> {
  if (isNumericUser(plan.user)) {
    const session = await login(api, plan.user, plan.password);
    return Array.from({ length: plan.concurrency }, () => session);
  }
  const users = Array.from({ length: plan.concurrency }, (_, i) => String(WORKER_USER_BASE + i + 1));
  return Promise.all(users.map((user) => login(api, user, user)));
}

async function login(api: KvApi, username: string, password: string): Promise<Session> {
  let response: Awaited<ReturnType<KvApi["login"]>>;
  try {
    response = await api.login({ username, password });
  } catch (error) {
    throw new CommandFailure("benchmark", `login as ${username} failed: ${describeCallError(error)}`, { cause: error });
  }
  if (statusCode(response.status) !== KvCode.OK) {
    throw new CommandFailure("benchmark", `login as ${username} failed: ${describeStatus(response.status)}`);
  }
  const session = new Session(username);
  session.establish(response.token);
  return session;
}

function reportedUsername(plan: BenchmarkPlan): string {
  if (isNumericUser(plan.user)) return plan.user;
  const first = WORKER_USER_BASE + 1;
  return plan.concurrency === 1 ? String(first) : `${first}..${WORKER_USER_BASE + plan.concurrency}`;
}
