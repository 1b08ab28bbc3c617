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
