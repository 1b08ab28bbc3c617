/** Where etserver reads the time for session expiry and token buckets; tests pass a manual one. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/** The system clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };
