/**
 * Reconnect backoff like gRPC's (SPEC §4; grpc-js `backoff-timeout.ts`):
 * the first delay is `initialMs`, each next one ×1.6, capped at `maxMs`, and
 * every delay is spread by ±20 % jitter so clients that lost the same server
 * do not come back in step. Internal module.
 */

/** Parameters of a {@link Backoff}. */
export interface BackoffOptions {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Largest delay in ms (before jitter). */
  readonly maxMs: number;
  /** Growth factor per attempt. Default 1.6. */
  readonly multiplier?: number;
  /** Relative jitter: each delay is spread uniformly over ±jitter. Default 0.2. */
  readonly jitter?: number;
  /** Random source in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/** The delays between failed connection attempts. */
export class Backoff {
  private nextBaseMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.nextBaseMs = options.initialMs;
    this.multiplier = options.multiplier ?? 1.6;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
  }

  /** The delay to wait before the next attempt, in ms; the one after grows. */
  next(): number {
    const base = this.nextBaseMs;
    this.nextBaseMs = Math.min(base * this.multiplier, this.options.maxMs);
    return base * (1 + this.jitter * (2 * this.random() - 1));
  }

  /** An attempt succeeded: the next delay is `initialMs` again. */
  reset(): void {
    this.nextBaseMs = this.options.initialMs;
  }
}
