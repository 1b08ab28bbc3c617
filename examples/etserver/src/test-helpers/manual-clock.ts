import type { Clock } from "../domain/clock.js";

/** A clock that moves only when a test advances it, so time-based rules are tested without sleeping. */
export class ManualClock implements Clock {
  /** @param ms the starting time in epoch milliseconds. */
  constructor(private ms = 1_700_000_000_000) {}

  now(): number {
    return this.ms;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("a clock does not go back");
    this.ms += ms;
  }
}
