import { createInProcessClient, type DoraError, type Interceptor } from "@dora/runtime";
import { createKvServiceClient, KvServiceMethodNames, type KvServiceClient } from "@dora/tiger/kv/v1";
import { createEtserver } from "../../../etserver/src/compose.js";
import { createPinoLogger } from "../../../etserver/src/infra/pino-logger.js";
import { testConfig } from "../../../etserver/src/test-helpers/etserver.js";
import { ManualClock } from "../../../etserver/src/test-helpers/manual-clock.js";

/** One call the client sent: the rpc, its request fields and the metadata sent with it. */
export interface SentCall {
  readonly rpc: "login" | "read" | "write";
  readonly request: Readonly<Record<string, string>>;
  readonly meta: Readonly<Record<string, string>>;
}

/** A real etserver (memory store) in this process, reached by the generated client without a socket. */
export interface InProcessKv {
  /** The generated client. */
  readonly kv: KvServiceClient;
  /** Every call the client sent, in order. */
  readonly sent: SentCall[];
  /** The server's clock: token buckets and sessions move only when a test advances it. */
  readonly clock: ManualClock;
  /** From now on every read and write fails on the client with `error` before it is sent (a transport failure); undefined ends it. */
  failCalls(error: DoraError | undefined): void;
  /** Watches open in the server (WatchSecureMessage). */
  openWatches(): number;
  /** Shuts the server down while the client stays open (to see what a shutdown does to a watch). */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

const RPCS: ReadonlyMap<string, SentCall["rpc"]> = new Map([
  [KvServiceMethodNames.login, "login"],
  [KvServiceMethodNames.readSecureMessage, "read"],
  [KvServiceMethodNames.writeSecureMessage, "write"],
]);

/**
 * Starts etserver with the memory store (users 1..N, password = username)
 * and `overrides` on top of the test defaults, and a generated client that
 * calls it in process: the server's real rules (sessions, rate limits, key
 * sizes) answer, and the client records what it sent. With `callMs`, every
 * call moves the server's clock forward by that much as it is sent.
 */
export function startInProcessKv(overrides: Parameters<typeof testConfig>[0] = {}, options: { callMs?: number } = {}): InProcessKv {
  const clock = new ManualClock();
  const etserver = createEtserver(testConfig({ store: "memory", ...overrides }), createPinoLogger("silent"), { clock });
  const sent: SentCall[] = [];
  let failure: DoraError | undefined;
  const record: Interceptor = (next) => (req) => {
    const rpc = RPCS.get(req.method);
    if (rpc === undefined) return next(req);
    const request: Record<string, string> = {};
    for (const [field, value] of Object.entries(req.message)) if (typeof value === "string") request[field] = value;
    sent.push({ rpc, request, meta: { ...req.meta } });
    if (options.callMs !== undefined) clock.advance(options.callMs);
    if (rpc !== "login" && failure !== undefined) return Promise.reject(failure);
    return next(req);
  };
  const client = createInProcessClient(etserver.server, { interceptors: [record] });
  let stopping: Promise<void> | undefined;
  const stopServer = () => (stopping ??= etserver.close());
  return {
    kv: createKvServiceClient(client),
    sent,
    clock,
    failCalls: (error) => (failure = error),
    openWatches: () => etserver.watches.openCount,
    stopServer,
    async close() {
      await client.close();
      await stopServer();
    },
  };
}
