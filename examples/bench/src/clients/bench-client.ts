import type { WorkloadParams } from "../workload.js";

/** What every client of the comparison is given. */
export interface BenchClientOptions {
  /** Server `host:port`. */
  address: string;
  /** Username, token, key letter and size. */
  params: WorkloadParams;
  /** Connections (channels, sessions) to open; callers are spread over them round-robin. */
  connections: number;
}

/** A client of the comparison: one ReadSecureMessage per `call`. */
export interface BenchClient {
  /**
   * Makes one ReadSecureMessage call from caller number `caller` and
   * resolves true when it was answered OK with the expected value, false on
   * any other outcome (never rejects).
   */
  call(caller: number): Promise<boolean>;
  /** Closes its connections. */
  close(): Promise<void>;
}

/** A client of the server-streaming comparison: one WatchSecureMessage stream per `stream`. */
export interface BenchStreamClient {
  /**
   * Opens one stream from caller number `caller`, asking for `messages`
   * messages, calls `onMessage` as each arrives, and resolves with how many
   * arrived with the expected key and value (never rejects: a failed stream
   * resolves with the good messages it had).
   */
  stream(caller: number, messages: number, onMessage: () => void): Promise<number>;
  /** Closes its connections. */
  close(): Promise<void>;
}
