import type { StoreAnswer } from "./store-answer.js";

/** A user's request quota, in requests per second. */
export interface Quota {
  /** Reads per second. */
  readonly read: number;
  /** Writes per second. */
  readonly write: number;
}

/** The largest quota the formula gives: 100000 requests per second. */
export const MAX_FORMULA_QUOTA = 100_000;

/**
 * The quota formula of SPEC §6 for a numeric username n:
 * read = min(100000, 3n + 3), write = min(100000, n + 3). A username that is
 * not all decimal digits counts as n = 0.
 */
export function formulaQuota(username: string): Quota {
  const n = /^[0-9]+$/.test(username) ? Number(username) : 0;
  return { read: Math.min(MAX_FORMULA_QUOTA, 3 * n + 3), write: Math.min(MAX_FORMULA_QUOTA, n + 3) };
}

/** Where quotas come from: the formula, a fixed value, or MySQL's `quota` table. */
export interface QuotaRepository {
  /** The quota of `username`. */
  quotaOf(username: string): StoreAnswer<Quota>;
  /**
   * The quota of `username` when it is known without asking a store (the
   * formula, a fixed value, a cached answer), else undefined. It never starts
   * a store call, so it may be asked before the caller is authenticated.
   */
  knownQuotaOf(username: string): Quota | undefined;
}

/** Quotas by {@link formulaQuota}. */
export class FormulaQuotaRepository implements QuotaRepository {
  /** @inheritdoc */
  quotaOf(username: string): Quota {
    return formulaQuota(username);
  }
  /** @inheritdoc */
  knownQuotaOf(username: string): Quota {
    return formulaQuota(username);
  }
}

/** The same quota for every user, for reads and writes alike. */
export class FixedQuotaRepository implements QuotaRepository {
  private readonly quota: Quota;
  /** @param perSecond requests per second, an integer >= 1. */
  constructor(perSecond: number) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new RangeError(`quota.fixed must be an integer >= 1, got ${perSecond}`);
    this.quota = { read: perSecond, write: perSecond };
  }
  /** @inheritdoc */
  quotaOf(): Quota {
    return this.quota;
  }
  /** @inheritdoc */
  knownQuotaOf(): Quota {
    return this.quota;
  }
}
