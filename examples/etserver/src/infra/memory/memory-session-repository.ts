import type { SessionRepository } from "../../domain/session.js";

/** How often expired sessions are swept, in milliseconds. */
const SWEEP_INTERVAL_MS = 60_000;

/** Sessions in process memory with a TTL; expired ones are never returned and are swept every minute. */
export class MemorySessionRepository implements SessionRepository {
  private readonly sessions = new Map<string, { token: string; expiresAtMs: number }>();
  private readonly sweeper: NodeJS.Timeout;

  /** @param now clock in epoch milliseconds (tests pass a fake one). */
  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** @inheritdoc */
  put(username: string, token: string, ttlSeconds: number): void {
    this.sessions.set(username, { token, expiresAtMs: this.now() + ttlSeconds * 1000 });
  }

  /** @inheritdoc */
  tokenOf(username: string): string | undefined {
    const session = this.sessions.get(username);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= this.now()) {
      this.sessions.delete(username);
      return undefined;
    }
    return session.token;
  }

  /** Stops the sweep timer. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [username, session] of this.sessions) if (session.expiresAtMs <= now) this.sessions.delete(username);
  }
}
