import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { LimitExceededError, StoreUnavailableError } from "../domain/errors.js";
import type { FailedLoginLimiter, LoginAttempt } from "../domain/ratelimiter.js";
import { boundedKey } from "./bounded-key.js";

/** Limits on failed logins (SPEC §6 `loginLimiter`). */
export interface LoginLimits {
  /** Failures of one username allowed per window. Default 10. */
  readonly maxFailuresPerUser: number;
  /** Failures from one peer address allowed per window. Default 100. */
  readonly maxFailuresPerPeer: number;
  /** Window length in seconds. Default 300. */
  readonly windowSeconds: number;
}

/** SPEC §6 defaults: more than 10 per user or 100 per peer in 5 minutes is refused. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailuresPerUser: 10, maxFailuresPerPeer: 100, windowSeconds: 300 };

/** The counter key of a username or address (`p:<name>`, or `h:<sha256>` when long): bounded in size whatever the peer sends. */
function counterKey(value: string): string {
  return boundedKey(value, "p:");
}

const MESSAGE = "too many failed logins";

/**
 * Failed-login limits (SPEC §6) with rate-limiter-flexible: in memory for one
 * process, or in Redis when several etservers share the counts.
 *
 * Each attempt first consumes a point of its peer's and its username's counts
 * (one atomic increment each: `consume`), and only then is the password
 * tested. A right password gives the points back (`reward`); a wrong one
 * leaves them as a failure. So a count is always "failures + attempts being
 * checked", and a burst of attempts sent at once is limited exactly like the
 * same attempts made one after another: once `max` failures are counted,
 * every further attempt, with a right password or not, is refused until the
 * window ends. A successful login does not erase earlier failures.
 *
 * When an attempt finds the count full only because of attempts still being
 * checked in this process, it waits for one of them to settle and tries
 * again, so a burst of right passwords (e.g. a benchmark logging in many
 * users from one address) is not refused. Attempts still being checked by
 * another etserver sharing the counts cannot be waited for: an attempt can
 * then be refused early, never admitted beyond the limit.
 */
export class FlexibleFailedLoginLimiter implements FailedLoginLimiter {
  private readonly perUser: FailureCounter;
  private readonly perPeer: FailureCounter;

  /** @param redis when given, counts live in Redis under `keyPrefix`; else in process memory. */
  constructor(limits: LoginLimits, redis?: { client: Redis; keyPrefix: string }) {
    const make = (points: number, name: string): RateLimiterAbstract =>
      redis === undefined
        ? new RateLimiterMemory({ points, duration: limits.windowSeconds, keyPrefix: name })
        : new RateLimiterRedis({ storeClient: redis.client, points, duration: limits.windowSeconds, keyPrefix: `${redis.keyPrefix}${name}`, rejectIfRedisNotReady: true });
    this.perUser = new FailureCounter(make(limits.maxFailuresPerUser, "login-fail-user"));
    this.perPeer = new FailureCounter(make(limits.maxFailuresPerPeer, "login-fail-peer"));
  }

  /** @inheritdoc */
  async begin(username: string, peerAddress: string, signal: AbortSignal): Promise<LoginAttempt> {
    const user = counterKey(username);
    const peer = counterKey(peerAddress);
    for (;;) {
      if (signal.aborted) throw new StoreUnavailableError("login limiter: call abandoned");
      // The peer first: a peer over its limit then never touches (creates) a username's count.
      const byPeer = await this.perPeer.reserve(peer);
      if (byPeer.outcome === "refused") throw new LimitExceededError(MESSAGE);
      if (byPeer.outcome === "busy") {
        await this.perPeer.settled(peer, byPeer.seen, signal);
        continue;
      }
      let byUser: Reservation;
      try {
        byUser = await this.perUser.reserve(user);
      } catch (error) {
        this.perPeer.settle(peer, true);
        throw error;
      }
      if (byUser.outcome === "admitted") {
        if (signal.aborted) {
          this.perUser.settle(user, true);
          this.perPeer.settle(peer, true);
          throw new StoreUnavailableError("login limiter: call abandoned");
        }
        return this.attempt(user, peer);
      }
      // Refused or busy on the username: this attempt tests nothing, so the peer's point goes back.
      this.perPeer.settle(peer, true);
      if (byUser.outcome === "refused") throw new LimitExceededError(MESSAGE);
      await this.perUser.settled(user, byUser.seen, signal);
    }
  }

  private attempt(user: string, peer: string): LoginAttempt {
    let done = false;
    const settle = (giveBack: boolean) => {
      if (done) return;
      done = true;
      this.perUser.settle(user, giveBack);
      this.perPeer.settle(peer, giveBack);
    };
    return { failed: () => settle(false), succeeded: () => settle(true), abandoned: () => settle(true) };
  }
}

/** What one reservation found: a point taken, the count full of failures, or full with attempts still being checked here. */
type Reservation = { outcome: "admitted" } | { outcome: "refused" } | { outcome: "busy"; seen: number };

/** Attempts on one key admitted by this process and not settled yet, and the calls waiting for them. */
interface OpenKey {
  admitted: number;
  /** Stamp of the latest settle on this key. */
  lastSettle: number;
  readonly waiters: Set<() => void>;
}

/** Monotonic stamps for {@link OpenKey.lastSettle}. */
let settleClock = 0;

/**
 * One rate-limiter-flexible counter plus this process's bookkeeping of the
 * attempts it admitted and has not settled, so an attempt refused only
 * because of those can wait for them instead of being refused. Memory is
 * proportional to attempts in flight: a key's entry is dropped when its last
 * attempt settles. Internal to this module.
 */
class FailureCounter {
  private readonly open = new Map<string, OpenKey>();

  constructor(private readonly limiter: RateLimiterAbstract) {}

  /** Takes one point of `key` (atomic in the store). @throws StoreUnavailableError */
  async reserve(key: string): Promise<Reservation> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw new StoreUnavailableError("login limiter store failed", { cause: error });
      const entry = this.open.get(key);
      const busy = entry !== undefined && entry.admitted > 0;
      const seen = entry?.lastSettle ?? 0;
      // Undo this attempt's own increment: the count stays "failures + attempts being checked".
      await this.giveBack(key);
      return busy ? { outcome: "busy", seen } : { outcome: "refused" };
    }
    let entry = this.open.get(key);
    if (entry === undefined) {
      entry = { admitted: 0, lastSettle: 0, waiters: new Set() };
      this.open.set(key, entry);
    }
    entry.admitted++;
    return { outcome: "admitted" };
  }

  /**
   * Settles one admitted attempt on `key`: with `giveBack` its point is
   * returned (right password, or not checked), else it stays as a failure.
   * Wakes one waiter when a point came back, all of them when no attempt is
   * left in flight.
   */
  settle(key: string, giveBack: boolean): void {
    const entry = this.open.get(key);
    if (entry === undefined) return;
    const done = () => {
      entry.admitted--;
      entry.lastSettle = ++settleClock;
      if (entry.admitted <= 0) {
        if (this.open.get(key) === entry) this.open.delete(key);
        const waiters = [...entry.waiters];
        entry.waiters.clear();
        for (const wake of waiters) wake();
      } else if (giveBack) {
        const first = entry.waiters.values().next();
        if (first.done !== true) {
          entry.waiters.delete(first.value);
          first.value();
        }
      }
    };
    if (giveBack) void this.giveBack(key).then(done);
    else done();
  }

  /**
   * Resolves when an attempt on `key` settles after the stamp `seen` (at
   * once if one already has, or none is in flight).
   * @throws StoreUnavailableError when `signal` aborts first.
   */
  settled(key: string, seen: number, signal: AbortSignal): Promise<void> {
    const entry = this.open.get(key);
    if (entry === undefined || entry.admitted <= 0 || entry.lastSettle !== seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        entry.waiters.delete(wake);
        reject(new StoreUnavailableError("login limiter: call abandoned"));
      };
      if (signal.aborted) return onAbort();
      entry.waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Returns one point to `key`, never below zero (a window that ended meanwhile starts empty). Never rejects: a point that cannot be returned stays counted. */
  private async giveBack(key: string): Promise<void> {
    try {
      const res = await this.limiter.reward(key, 1);
      if (res.consumedPoints < 0) await this.limiter.penalty(key, -res.consumedPoints);
    } catch {
      // The store is failing: the point stays until the window ends (fails closed).
    }
  }
}
