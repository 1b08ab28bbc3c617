/**
 * Validation of command-line values. Each failure is a {@link UsageError}
 * whose message names the flag and the bad value (SPEC §7: usage errors name
 * the bad argument and exit with 2).
 */
import { parseHostPort } from "@dora/runtime/config";

/** A bad command line: the CLI prints the message on stderr and exits with 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A key or value: exactly one lowercase letter a–z (the original's `[a:z]`). */
export function parseLetter(flag: string, raw: unknown): string {
  if (typeof raw === "string" && /^[a-z]$/.test(raw)) return raw;
  throw new UsageError(`${flag} must be one lowercase letter a-z, got ${show(raw)}`);
}

/** An integer in [min, max]. */
export function parseInteger(flag: string, raw: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= min && raw <= max) return raw;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  throw new UsageError(`${flag} must be an integer ${range}, got ${show(raw)}`);
}

/** A positive number of seconds (fractions allowed), at most one day. */
export function parseSeconds(flag: string, raw: unknown): number {
  if (typeof raw === "number" && Number.isFinite(raw) && raw > 0 && raw <= 86_400) return raw;
  throw new UsageError(`${flag} must be a number of seconds > 0 and <= 86400, got ${show(raw)}`);
}

/** A non-empty string. */
export function parseNonEmpty(flag: string, raw: unknown): string {
  if (typeof raw === "string" && raw !== "") return raw;
  throw new UsageError(`${flag} must not be empty`);
}

/**
 * `HOST:PORT` with a port from 1 to 65535; an IPv6 host is written in
 * brackets (`[::1]:8443`). Returns the address unchanged.
 */
export function isHostPort(address: string): boolean {
  const parsed = parseHostPort(address);
  return parsed !== undefined && parsed.host !== "" && parsed.port >= 1;
}

/** Validates a `--address` value, see {@link isHostPort}. */
export function parseAddress(flag: string, raw: unknown): string {
  if (typeof raw === "string" && isHostPort(raw)) return raw;
  throw new UsageError(`${flag} must be HOST:PORT with a port from 1 to 65535, got ${show(raw)}`);
}

function show(raw: unknown): string {
  if (raw === undefined) return "nothing";
  if (typeof raw === "number" && Number.isNaN(raw)) return "a value that is not a number";
  return JSON.stringify(raw);
}
