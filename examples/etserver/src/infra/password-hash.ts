import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
}

/** Parameters for seeded synthetic users: N = 2^10, r = 8, p = 1 (about 2 ms a hash). */
export const SEED_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
/** Parameters for every other account: N = 2^15, r = 8, p = 1 (about 85 ms a hash). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Largest N accepted when verifying, so a corrupt row cannot ask for gigabytes. */
const MAX_N = 2 ** 20;

function scryptAsync(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  // The async form runs on the libuv thread pool, off the main thread.
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { N: params.N, r: params.r, p: params.p, maxmem }, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/**
 * Hashes `password` with a random salt into the self-describing form
 * `scrypt$N$r$p$<salt base64>$<hash base64>`.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/**
 * True when `password` matches `encoded` (made by {@link hashPassword}),
 * using the parameters stored in it and a constant-time comparison. A
 * malformed `encoded` gives false.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > MAX_N || (N & (N - 1)) !== 0 || r > 64 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}
