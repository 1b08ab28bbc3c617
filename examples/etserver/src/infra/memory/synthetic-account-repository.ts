import { timingSafeEqual } from "node:crypto";
import type { AccountRepository } from "../../domain/account.js";

/**
 * The memory store's accounts (SPEC §6): a synthetic fleet in which users
 * "1".."N" exist and each one's password is its username, so a fresh checkout
 * serves the same users as a seeded MySQL. Nothing is stored; the password is
 * compared in constant time.
 */
export class SyntheticAccountRepository implements AccountRepository {
  /** @param users N, the size of the fleet (users 1..N); 0 means no user exists. */
  constructor(private readonly users: number) {
    if (!Number.isInteger(users) || users < 0) throw new RangeError(`memory.users must be an integer >= 0, got ${users}`);
  }

  /** @inheritdoc */
  checkPassword(username: string, password: string): Promise<boolean> {
    const exists = /^[1-9][0-9]*$/.test(username) && Number(username) <= this.users;
    const expected = Buffer.from(username, "utf8");
    const given = Buffer.from(password, "utf8");
    // Always run one comparison so a missing user costs the same as a wrong password.
    const same = given.length === expected.length ? timingSafeEqual(given, expected) : (timingSafeEqual(expected, expected), false);
    return Promise.resolve(exists && same);
  }
}
