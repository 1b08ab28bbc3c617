import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
}

/** Parameters of every account's password hash: N = 2^15, r = 8, p = 1 (about 85 ms a hash). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** Bytes of random salt in every stored password (scrypt and the fast verifier). */
export const SALT_BYTES = 16;
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

/** First field of a fast verifier, `sha256$<salt base64>$<hash base64>`. */
export const FAST_VERIFIER_SCHEME = "sha256";

/**
 * The fast salted verifier of a seeded synthetic account (SPEC §6):
 * `sha256$<salt base64>$<SHA-256(salt ‖ password) base64>`. Seeded users'
 * passwords are public (password = username), so a slow hash would protect
 * nothing and cost the seed hours; the first successful login replaces it
 * with a regular scrypt hash ({@link needsUpgrade}). Only `etserver seed`
 * writes this form.
 *
 * @param salt {@link SALT_BYTES} random bytes; a fresh salt by default (the seed passes slices of one bulk buffer).
 */
export function fastVerifier(password: string, salt: Uint8Array = randomBytes(SALT_BYTES)): string {
  const hash = createHash("sha256").update(salt).update(password, "utf8").digest("base64");
  return `${FAST_VERIFIER_SCHEME}$${Buffer.from(salt.buffer, salt.byteOffset, salt.byteLength).toString("base64")}$${hash}`;
}

/**
 * True when a successful login should replace `encoded` with a regular
 * scrypt hash: it is a fast verifier, or scrypt with a cost below
 * {@link DEFAULT_SCRYPT_PARAMS} (rows seeded by earlier versions).
 */
export function needsUpgrade(encoded: string): boolean {
  const parts = encoded.split("$");
  if (parts[0] !== "scrypt") return true;
  return !(Number(parts[1]) >= DEFAULT_SCRYPT_PARAMS.N && Number(parts[2]) >= DEFAULT_SCRYPT_PARAMS.r);
}

function verifyFast(password: string, parts: readonly string[]): boolean {
  if (parts.length !== 3) return false;
  const salt = Buffer.from(parts[1] ?? "", "base64");
  const expected = Buffer.from(parts[2] ?? "", "base64");
  if (salt.length === 0 || expected.length !== 32) return false;
  const actual = createHash("sha256").update(salt).update(password, "utf8").digest();
  return timingSafeEqual(actual, expected);
}

/**
 * True when `password` matches `encoded` (made by {@link hashPassword}, or
 * by {@link fastVerifier} for a seeded account), using the parameters stored
 * in it and a constant-time comparison. A malformed `encoded` gives false.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts[0] === FAST_VERIFIER_SCHEME) return verifyFast(password, parts);
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > MAX_N || (N & (N - 1)) !== 0 || r > 64 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}
