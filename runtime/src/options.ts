/**
 * Option defaults and validation, in one place (SPEC §4). Internal module.
 * Every error names the option.
 */

/** Defaults shared by server and client. */
export const DEFAULTS = {
  keepaliveTimeMs: 5000,
  keepaliveTimeoutMs: 20000,
  maxFrameBytes: 4 * 1024 * 1024,
  maxMetadataBytes: 16 * 1024,
  maxConcurrentCalls: 1000,
  closeGraceMs: 5000,
  poolSize: 10,
  timeoutMs: 5000,
  connectTimeoutMs: 5000,
  reconnectInitialMs: 1000,
  reconnectMaxMs: 120000,
} as const;

/** Largest frame length the u32 length field can carry. */
const MAX_U32 = 0xffffffff;

/**
 * Returns `value` or its default, after checking it is an integer within
 * `[min, max]`; throws a `RangeError`/`TypeError` naming `name` otherwise.
 */
export function intOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`option ${name} must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`option ${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** Transport options, validated. */
export interface TransportOptions {
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  maxFrameBytes: number;
}

/** Validates the transport options common to server and client. */
export function transportOptions(o: { keepaliveTimeMs?: number | undefined; keepaliveTimeoutMs?: number | undefined; maxFrameBytes?: number | undefined }): TransportOptions {
  return {
    keepaliveTimeMs: intOption("keepaliveTimeMs", o.keepaliveTimeMs, DEFAULTS.keepaliveTimeMs, 1),
    keepaliveTimeoutMs: intOption("keepaliveTimeoutMs", o.keepaliveTimeoutMs, DEFAULTS.keepaliveTimeoutMs, 1),
    maxFrameBytes: intOption("maxFrameBytes", o.maxFrameBytes, DEFAULTS.maxFrameBytes, 64, MAX_U32),
  };
}

/** Parses `host:port` or `[v6]:port`; throws naming `name` when malformed. */
export function parseAddress(name: string, address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new TypeError(`option ${name}: expected HOST:PORT, got ${JSON.stringify(address)}`);
  }
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "127.0.0.1" : host, port };
}
