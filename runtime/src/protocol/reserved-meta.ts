/**
 * The framework's metadata keys, `dora-…` (SPEC §3.2), written and read here
 * only. Internal module.
 *
 * - `dora-timeout`: the time left for a call in milliseconds (client → server);
 * - `dora-status`: the decimal status code, absent or `"0"` meaning OK (server → client);
 * - `dora-message`: the human-readable status message (server → client).
 *
 * Keys starting with `dora-` are the framework's: a handler cannot set them
 * and they are never shown to user code as metadata.
 */
import { Code } from "../code.js";
import { DoraError } from "../dora-error.js";

/** Prefix of every reserved key. */
export const RESERVED_PREFIX = "dora-";
/** Remaining milliseconds of the call, sent by the client. */
export const TIMEOUT_KEY = "dora-timeout";
/** Status code of the answer, sent by the server; absent or "0" is OK. */
export const STATUS_KEY = "dora-status";
/** Status message of the answer, sent by the server. */
export const MESSAGE_KEY = "dora-message";

/** Metadata with no entries, shared and frozen. */
export const EMPTY_META: Readonly<Record<string, string>> = Object.freeze({});

/** Framework entries of a frame's metadata, written as given. */
export interface ReservedMeta {
  readonly [TIMEOUT_KEY]?: string;
  readonly [STATUS_KEY]?: string;
  readonly [MESSAGE_KEY]?: string;
}

/** True for a key of the framework (`dora-…`). */
export function isReserved(key: string): boolean {
  return key.startsWith(RESERVED_PREFIX);
}

/**
 * User metadata: `meta` without its reserved keys. Returns `meta` itself when
 * it holds none (the common case costs no copy), a copy otherwise, and
 * {@link EMPTY_META} for undefined.
 */
export function stripReserved(meta: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  if (meta === undefined) return EMPTY_META;
  for (const key in meta) {
    if (isReserved(key)) {
      const copy: Record<string, string> = {};
      for (const k in meta) if (!isReserved(k)) copy[k] = meta[k]!;
      return copy;
    }
  }
  return meta;
}

/**
 * Parses a `dora-timeout` value: a non-negative decimal integer of at most 15
 * digits (SPEC §3.1), in milliseconds; undefined when it is not one.
 */
export function parseTimeout(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * The `dora-timeout` value a client sends for `ms` milliseconds left: rounded
 * up, and at most `max` (MAX_TIMEOUT_MS), so a far deadline is sent as the
 * longest one a server accepts rather than as more digits than it parses.
 */
export function formatTimeout(ms: number, max: number): string {
  return String(ms >= max ? max : Math.ceil(ms));
}

/** The reserved entries that carry a status: `dora-status`, and `dora-message` when there is one. */
export function statusMeta(code: number, message: string): ReservedMeta {
  return message === "" ? { [STATUS_KEY]: String(code) } : { [STATUS_KEY]: String(code), [MESSAGE_KEY]: message };
}

/**
 * The status an answer's metadata carries: undefined for OK (no `dora-status`
 * or `"0"`), else a {@link DoraError} with the code, the `dora-message` and the
 * user metadata. A status that is not an integer reads as `Unknown`.
 */
export function statusFromMeta(meta: Readonly<Record<string, string>> | undefined): DoraError | undefined {
  const status = meta?.[STATUS_KEY];
  if (status === undefined || status === "0") return undefined;
  const code = Number(status);
  return new DoraError(Number.isInteger(code) ? code : Code.Unknown, meta![MESSAGE_KEY] ?? "", { metadata: { ...stripReserved(meta) } });
}
