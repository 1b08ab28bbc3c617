/**
 * Settings for talking to dora v2 Go peers (SPEC §3.1, §3.3): they cap frames
 * at 64 KiB and, as clients and servers, use bare method names (`Login`).
 *
 * ```ts
 * const client = createClient({ address: "go-server:8443", ...doraV2CompatClientOptions });
 * const server = createServer({ ...doraV2CompatServerOptions });
 * ```
 *
 * A server resolves bare names by itself (when exactly one service has the
 * method), so only its frame size needs setting; the application must also
 * keep its messages small enough (a request or answer above 64 KiB fails with
 * `OutOfRange` instead of being sent).
 */

/** The largest frame a dora v2 Go peer accepts: 64 KiB. */
export const DORA_V2_MAX_FRAME_BYTES = 65536;

/** Client options for dora v2 Go servers: 64 KiB frames and bare method names. Spread them into `createClient`'s options. */
export const doraV2CompatClientOptions: Readonly<{ maxFrameBytes: number; bareMethodNames: boolean }> = Object.freeze({
  maxFrameBytes: DORA_V2_MAX_FRAME_BYTES,
  bareMethodNames: true,
});

/** Server options for dora v2 Go clients: 64 KiB frames. Spread them into `createServer`'s options. */
export const doraV2CompatServerOptions: Readonly<{ maxFrameBytes: number }> = Object.freeze({
  maxFrameBytes: DORA_V2_MAX_FRAME_BYTES,
});
