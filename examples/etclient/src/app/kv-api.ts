import type { CallOptions } from "@dora/runtime";

/** A business status as kv.proto's `Status` carries it; absent means OK. */
export interface BusinessStatus {
  readonly code: number;
  readonly message: string;
}

/**
 * The part of the generated `KvServiceClient` (`@dora/tiger/kv/v1`) the
 * commands use, stated structurally so use cases and the benchmark can be
 * unit-tested with a fake. The generated client satisfies it as is.
 */
export interface KvApi {
  login(request: { username: string; password: string }, options?: CallOptions): Promise<{ status?: BusinessStatus | undefined; token: string }>;
  writeSecureMessage(request: { key: string; value: string }, options?: CallOptions): Promise<{ key: string; value: string }>;
  readSecureMessage(request: { key: string }, options?: CallOptions): Promise<{ status?: BusinessStatus | undefined; value: string }>;
  /** Server streaming: each value written to `key` after the watch opened, until the caller stops reading or aborts. */
  watchSecureMessage(request: { key: string }, options?: CallOptions): AsyncIterable<{ key: string; value: string }>;
}
