/**
 * The workload every system in the comparison runs: the original etclient's
 * `benchmark read -u 100000 -p 100000 -k c -c 12 -r 10000` — ReadSecureMessage
 * of a 2000-byte key, answered with a status and a 2000-byte value, with the
 * metadata `username` and `token` on every call (SPEC §7, §8).
 */
export const DEFAULT_WORKLOAD = {
  /** User whose session every call carries; its formula quota is 100000 reads/s (SPEC §6). */
  username: "100000",
  /** Its password on the memory store's synthetic fleet (password = username). */
  password: "100000",
  /** Key and value are this letter repeated `sizeBytes` times (SPEC §7). */
  letter: "c",
  /** Bytes of the key and of the value. */
  sizeBytes: 2000,
  /** Callers, each awaiting its answer before the next call. */
  concurrency: 12,
  /** Calls per caller in the measured run (12 × 10000 = 120,000 calls). */
  requestsPerCaller: 10_000,
  /** Seconds of calls, from a separate client process, before the measured run. */
  warmupSeconds: 2,
} as const;

/** What a client and a server of the comparison need to agree on. */
export interface WorkloadParams {
  /** Username sent as metadata on every call. */
  username: string;
  /** Session token sent as metadata on every call and checked by the server. */
  token: string;
  /** Key and value letter. */
  letter: string;
  /** Bytes of key and value. */
  sizeBytes: number;
}

/** The fully-qualified method every system calls (SPEC §3.3). */
export const READ_METHOD_PATH = "/kv.v1.KvService/ReadSecureMessage";

/**
 * The server-streaming comparison: each caller opens streams of
 * WatchSecureMessage, each answered with `messagesPerStream` messages of a
 * `sizeBytes`-byte key and value, until it has received its share of
 * messages (`requestsPerCaller`, as for unary calls).
 */
export const DEFAULT_STREAM_WORKLOAD = {
  /** Messages the server sends on each stream before it ends the stream. */
  messagesPerStream: 1000,
} as const;

/** The server-streaming method of the streaming comparison (SPEC §3.3). */
export const STREAM_METHOD_PATH = "/kv.v1.KvService/WatchSecureMessage";

/** Request metadata that tells a streaming server how many messages to send (a positive decimal integer). */
export const STREAM_MESSAGES_META = "messages";

/** The stream length a request's metadata asks for, or undefined when it is not a positive integer up to 10^9. */
export function streamLengthOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9][0-9]{0,8}$/.test(value)) return undefined;
  return Number(value);
}
