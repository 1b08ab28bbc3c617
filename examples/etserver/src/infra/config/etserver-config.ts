import { ConfigError, findConfigFile, loadConfig, LOG_LEVELS, parseHostPort } from "@dora/runtime/config";
import { z } from "zod";
import { DEFAULT_KV_LIMITS } from "../../domain/kvstore.js";
import { DEFAULT_WATCH_LIMITS } from "../../domain/watch.js";

/**
 * etserver's configuration (SPEC §6): config.yaml, then the environment,
 * then command-line flags, validated in one place by `@dora/runtime/config`.
 */

export { ConfigError, findConfigFile };

/** The address etserver listens on: `HOST:PORT` with a host and a port of 0..65535 (`[v6]:PORT` allowed); undefined when malformed. */
export function parseListenAddress(value: string): { host: string; port: number } | undefined {
  const address = parseHostPort(value);
  return address === undefined || address.host === "" ? undefined : address;
}

const fileName = z.string().min(1, "must not be empty");
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `expected a ${protocols.map((p) => `${p}//`).join(" or ")} URL`);

/** The schema of config.yaml. Every object is strict: an unknown key is an error that names it. */
export const etserverConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        /** `HOST:PORT` to listen on; port 0 picks a free port. Default 127.0.0.1:8443. */
        listenAddress: z.string().refine((value) => parseListenAddress(value) !== undefined, "expected HOST:PORT with a port from 0 to 65535").default("127.0.0.1:8443"),
        /** Serve TLS with client-certificate verification (mutual TLS). Default false. */
        enableTls: z.boolean().default(false),
        /** PEM server certificate. Default certs/server.pem. */
        certFile: fileName.default("certs/server.pem"),
        /** PEM server key. Default certs/server.key. */
        keyFile: fileName.default("certs/server.key"),
        /** PEM CA that signs client certificates. Default certs/ca.pem. */
        caFile: fileName.default("certs/ca.pem"),
        /** Processes serving the port (node:cluster); > 1 needs store mysql. Default 1. */
        workers: z.number().int().min(1).max(256).default(1),
        /** Connections open at once, per process; beyond it a new one is closed at once. Default 10000. */
        maxConnections: z.number().int().min(1).default(10_000),
        /** Connections open at once from one peer IP address, per process. Default 1000. */
        maxConnectionsPerAddress: z.number().int().min(1).default(1_000),
        /** A TLS handshake must complete within this many milliseconds. Default 10000. */
        handshakeTimeoutMs: z.number().int().min(1).max(2 ** 31 - 1).default(10_000),
        /** A frame whose first bytes arrived must complete within this many milliseconds. Default 20000. */
        frameTimeoutMs: z.number().int().min(1).max(2 ** 31 - 1).default(20_000),
        /** A PING goes to a peer after this many milliseconds without a whole frame from it. Default 5000. */
        keepaliveTimeMs: z.number().int().min(1).max(2 ** 31 - 1).default(5_000),
        /** The connection closes when no whole frame came this many milliseconds after that PING. Default 20000. */
        keepaliveTimeoutMs: z.number().int().min(1).max(2 ** 31 - 1).default(20_000),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info") }).prefault({}),
    store: z.enum(["memory", "mysql"]).default("memory"),
    memory: z.strictObject({ users: z.number().int().min(0).max(1e9).default(1_000_001) }).prefault({}),
    mysql: z
      .strictObject({
        url: url(["mysql:"]).default("mysql://root@127.0.0.1:3306/dora_server"),
        poolSize: z.number().int().min(1).max(10_000).default(100),
      })
      .prefault({}),
    redis: z
      .strictObject({
        url: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379/0"),
        keyPrefix: z.string().default("dora:"),
        commandTimeoutMs: z.number().int().min(1).max(600_000).default(1000),
      })
      .prefault({}),
    quota: z
      .strictObject({
        source: z.enum(["formula", "mysql", "fixed"]).default("formula"),
        fixed: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    rateLimiter: z.strictObject({ capacity: z.number().int().min(1).default(10_000) }).prefault({}),
    loginLimiter: z
      .strictObject({
        maxFailuresPerUser: z.number().int().min(1).default(10),
        maxFailuresPerPeer: z.number().int().min(1).default(100),
        windowSeconds: z.number().int().min(1).default(300),
      })
      .prefault({}),
    session: z.strictObject({ ttlSeconds: z.number().int().min(1).default(86_400) }).prefault({}),
    limits: z
      .strictObject({
        /** Longest key in UTF-8 bytes. Default 4096. */
        maxKeyBytes: z.number().int().min(1).max(65_536).default(DEFAULT_KV_LIMITS.maxKeyBytes),
        /** Longest value in UTF-8 bytes. Default 61440 (60 KiB: fits dora v2's 64 KiB frame). */
        maxValueBytes: z.number().int().min(0).max(64 * 1024 * 1024).default(DEFAULT_KV_LIMITS.maxValueBytes),
      })
      .prefault({}),
    watch: z
      .strictObject({
        /** Open watches of one user in one process. Default 16. */
        maxPerUser: z.number().int().min(1).max(1_000_000).default(DEFAULT_WATCH_LIMITS.maxPerUser),
        /** Open watches on one client connection. Default 64. */
        maxPerConnection: z.number().int().min(1).max(1_000_000).default(DEFAULT_WATCH_LIMITS.maxPerConnection),
        /** Open watches in one process. Default 10000. */
        maxPerProcess: z.number().int().min(1).max(1_000_000).default(DEFAULT_WATCH_LIMITS.maxPerProcess),
        /** Values one watcher may fall behind before its watch ends with ResourceExhausted. Default 64. */
        maxQueuedMessages: z.number().int().min(1).max(65_536).default(DEFAULT_WATCH_LIMITS.maxQueuedMessages),
      })
      .prefault({}),
  })
  .prefault({});

/** The validated configuration with defaults applied; file paths are absolute. */
export type EtserverConfig = z.infer<typeof etserverConfigSchema>;

/** Environment variables that override the file, and the key each one sets. */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  ETSERVER_MYSQL_URL: "mysql.url",
  ETSERVER_REDIS_URL: "redis.url",
  ETSERVER_STORE: "store",
  ETSERVER_LOG_LEVEL: "log.level",
};

/** A flag's value and its name, e.g. `{ key: "server.workers", flag: "--workers", value: 4 }`. */
export interface FlagOverride {
  /** Dotted config key it sets. */
  readonly key: string;
  /** The flag as typed, used in error messages. */
  readonly flag: string;
  /** Its value (undefined: not given). */
  readonly value: unknown;
}

/** Where to read the configuration from. */
export interface ConfigSources {
  /** `--config FILE`: must exist when given. */
  readonly file?: string | undefined;
  /** Directory of the executable: its config.yaml wins over the working directory's. */
  readonly executableDir: string;
  /** The working directory. */
  readonly cwd: string;
  /** The environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flags, applied last. */
  readonly flags?: readonly FlagOverride[];
}

/**
 * Loads config.yaml (from `--config`, else next to the executable, else the
 * working directory; none at all is fine), applies the environment, then
 * flags, validates the result (all through `@dora/runtime/config`), and
 * checks the combinations SPEC §6 forbids.
 *
 * @throws ConfigError with one line naming the key and its source, e.g.
 *   `config /x/config.yaml: server.bogus: unknown key` or `--workers: Too small: expected number to be >=1`.
 */
export function loadEtserverConfig(sources: ConfigSources): EtserverConfig & { file: string | undefined } {
  const { config, file, sourceOf } = loadConfig({
    schema: etserverConfigSchema,
    file: sources.file,
    searchDirs: [sources.executableDir, sources.cwd],
    cwd: sources.cwd,
    env: sources.env,
    envMap: ENV_OVERRIDES,
    overrides: (sources.flags ?? []).map((f) => ({ key: f.key, source: f.flag, value: f.value })),
    pathKeys: ["server.certFile", "server.keyFile", "server.caFile"],
  });
  if (config.quota.source === "mysql" && config.store !== "mysql") throw new ConfigError(`${sourceOf("quota.source")}: "mysql" needs store: mysql (the store is "${config.store}")`);
  if (config.server.workers > 1 && config.store !== "mysql") {
    throw new ConfigError(`${sourceOf("server.workers")}: ${config.server.workers} workers need store: mysql (sessions and limits are shared in Redis); the store is "${config.store}"`);
  }
  return { ...config, file };
}
