import { createServer, type Server } from "@dora/runtime";
import { registerKvService } from "@dora/tiger/kv/v1";
import type { Redis } from "ioredis";
import type { Pool } from "mysql2/promise";
import { kvInterceptors } from "./api/interceptors.js";
import { KvHandler } from "./api/kv-handler.js";
import { AdmissionUseCase } from "./app/admission.js";
import { AuthenticateUseCase } from "./app/authenticate.js";
import { ReadUseCase, WriteUseCase } from "./app/kv.js";
import { WatchUseCase } from "./app/watch.js";
import { LoginUseCase } from "./app/login.js";
import { RateLimitUseCase } from "./app/rate-limit.js";
import type { AccountRepository } from "./domain/account.js";
import type { AdmittingValueStore } from "./domain/admission.js";
import { systemClock, type Clock } from "./domain/clock.js";
import type { ValueRepository } from "./domain/kvstore.js";
import { FixedQuotaRepository, FormulaQuotaRepository, type QuotaRepository } from "./domain/quota.js";
import type { RateLimiter } from "./domain/ratelimiter.js";
import type { SessionRepository } from "./domain/session.js";
import type { ValueFeed } from "./domain/watch.js";
import { CachedQuotaRepository } from "./infra/cached-quota-repository.js";
import { parseListenAddress, type EtserverConfig } from "./infra/config/etserver-config.js";
import { loadTlsFiles } from "./infra/config/tls-files.js";
import { FlexibleFailedLoginLimiter } from "./infra/failed-login-limiter.js";
import { MemoryRateLimiter } from "./infra/memory/memory-rate-limiter.js";
import { MemorySessionRepository } from "./infra/memory/memory-session-repository.js";
import { MemoryValueFeed } from "./infra/memory/memory-value-feed.js";
import { MemoryValueRepository } from "./infra/memory/memory-value-repository.js";
import { SyntheticAccountRepository } from "./infra/memory/synthetic-account-repository.js";
import { MysqlAccountRepository } from "./infra/mysql/mysql-account-repository.js";
import { createMysqlPool, MYSQL_CONNECT_TIMEOUT_MS, parseMysqlUrl } from "./infra/mysql/mysql-pool.js";
import { MysqlQuotaRepository } from "./infra/mysql/mysql-quota-repository.js";
import type { EtserverLogger } from "./infra/pino-logger.js";
import { connectRedis, connectRedisSubscriber, waitForRedis } from "./infra/redis/redis-connection.js";
import { RedisAdmittingValueStore } from "./infra/redis/redis-admitting-value-store.js";
import { RedisRateLimiter } from "./infra/redis/redis-rate-limiter.js";
import { RedisSessionRepository } from "./infra/redis/redis-session-repository.js";
import { RedisValueFeed } from "./infra/redis/redis-value-feed.js";
import { RedisValueRepository } from "./infra/redis/redis-value-repository.js";
import { classifyRedisError, probeMysql, probeRedis, redisTarget, StoreMisconfiguredError, type MysqlTarget } from "./infra/store-readiness.js";

/** How often a MySQL that did not answer at startup is probed again, in milliseconds. */
const MYSQL_RETRY_MS = 1000;

/** What {@link createEtserver} takes besides the configuration. */
export interface EtserverOptions {
  /** The clock of session expiry and of the in-memory token buckets. Default: the system clock. */
  readonly clock?: Clock;
}

/** A wired etserver: its dora server and what it holds open. */
export interface Etserver {
  /** The dora server with KvService and its interceptors (`errors`, `auth`, `limit`). */
  readonly server: Server;
  /**
   * Checks the stores, then binds `server.listenAddress` (port 0: a free
   * port) and returns the real address. A store that does not answer yet is
   * logged once and retried; calls get `Unavailable` until it answers.
   * @throws StoreMisconfiguredError when a store answers but refuses the
   *   credentials or lacks its database or tables (SPEC §6).
   */
  listen(): Promise<{ host: string; port: number }>;
  /** The watches open in this process (WatchSecureMessage). */
  readonly watches: WatchUseCase;
  /**
   * Graceful shutdown: ends every open watch with Unavailable, closes the
   * server (in-flight calls finish), then the stores.
   */
  close(): Promise<void>;
}

/** The repositories of one store choice, and how to release them. */
interface Stores {
  readonly accounts: AccountRepository;
  readonly sessions: SessionRepository;
  readonly values: ValueRepository;
  /** Reads and writes with their admission checked in the same step (Redis: one script), or undefined (the memory store checks at once anyway). */
  readonly admitting: AdmittingValueStore | undefined;
  /** Announces each write to the watches of its key (in process, or Redis pub/sub shared by every instance). */
  readonly feed: ValueFeed;
  readonly limiter: RateLimiter;
  readonly failedLogins: FlexibleFailedLoginLimiter;
  readonly quotaStore: QuotaRepository | undefined;
  /**
   * Looks at the stores once (bounded by their connect timeouts): throws
   * {@link StoreMisconfiguredError} for a store set up wrongly, logs a store
   * that does not answer and keeps retrying it.
   */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: builds stores, use cases, interceptors and the
 * handler from `config` by plain constructor injection.
 * @throws ConfigError when TLS is on and a certificate file cannot be read.
 */
export function createEtserver(config: EtserverConfig, logger: EtserverLogger, options: EtserverOptions = {}): Etserver {
  const clock = options.clock ?? systemClock;
  const address = parseListenAddress(config.server.listenAddress);
  if (address === undefined) throw new RangeError(`server.listenAddress: expected HOST:PORT, got ${config.server.listenAddress}`);
  const tls = config.server.enableTls ? loadTlsFiles(config.server) : undefined;
  const stores = config.store === "memory" ? memoryStores(config, clock) : mysqlStores(config, logger, clock);

  const quotas: QuotaRepository =
    config.quota.source === "fixed"
      ? new FixedQuotaRepository(config.quota.fixed)
      : config.quota.source === "mysql" && stores.quotaStore !== undefined
        ? new CachedQuotaRepository(stores.quotaStore, config.rateLimiter.capacity)
        : new FormulaQuotaRepository();
  const limits = { maxKeyBytes: config.limits.maxKeyBytes, maxValueBytes: config.limits.maxValueBytes };
  const watches = new WatchUseCase(stores.feed, limits, config.watch);
  const authenticate = new AuthenticateUseCase(stores.sessions);
  const rateLimit = new RateLimitUseCase(quotas, stores.limiter);
  // Reads and writes whose checks the interceptors defer to the use case (only with a store that checks them with the operation).
  const deferred = { admissions: new AdmissionUseCase(authenticate, rateLimit, quotas), store: stores.admitting };

  const handler = new KvHandler(
    new LoginUseCase(stores.accounts, stores.sessions, stores.failedLogins, config.session.ttlSeconds),
    new WriteUseCase(stores.values, limits, deferred),
    new ReadUseCase(stores.values, limits, deferred),
    watches,
  );
  const server = createServer({
    logger,
    interceptors: kvInterceptors({ authenticate, rateLimit, logger, deferAdmission: stores.admitting !== undefined }),
    maxConnections: config.server.maxConnections,
    maxConnectionsPerAddress: config.server.maxConnectionsPerAddress,
    handshakeTimeoutMs: config.server.handshakeTimeoutMs,
    frameTimeoutMs: config.server.frameTimeoutMs,
    keepaliveTimeMs: config.server.keepaliveTimeMs,
    keepaliveTimeoutMs: config.server.keepaliveTimeoutMs,
    ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key, ca: tls.ca, requestClientCert: true } }),
  });
  registerKvService(server, handler);

  return {
    server,
    watches,
    async listen() {
      await stores.check();
      return server.listen({ host: address.host, port: address.port });
    },
    async close() {
      watches.close();
      try {
        await server.close();
      } finally {
        await stores.close();
      }
    },
  };
}

/** The zero-setup store: a synthetic fleet of accounts, everything else in process memory. */
function memoryStores(config: EtserverConfig, clock: Clock): Stores {
  const now = () => clock.now();
  const sessions = new MemorySessionRepository(now);
  const feed = new MemoryValueFeed();
  return {
    accounts: new SyntheticAccountRepository(config.memory.users),
    sessions,
    values: new MemoryValueRepository(feed),
    admitting: undefined,
    feed,
    limiter: new MemoryRateLimiter(config.rateLimiter.capacity, now),
    failedLogins: new FlexibleFailedLoginLimiter(config.loginLimiter),
    quotaStore: undefined,
    check: () => Promise.resolve(),
    close: () => {
      sessions.close();
      return Promise.resolve();
    },
  };
}

/** Accounts and quotas in MySQL; values, sessions, rate limits and failed-login counts in Redis (shared by every instance). */
function mysqlStores(config: EtserverConfig, logger: EtserverLogger, clock: Clock): Stores {
  const pool: Pool = createMysqlPool(config.mysql);
  const { host, port, user, database } = parseMysqlUrl(config.mysql.url);
  const mysqlAt: MysqlTarget = { address: `${host}:${port}`, user, database };
  const redisAt = redisTarget(config.redis.url);
  let checked = false;
  let redisDown = false;
  let mysqlRetry: NodeJS.Timeout | undefined;
  // ioredis reports each outage once (SPEC §6: logged once with its address) and reconnects by itself.
  const redis: Redis = connectRedis(config.redis, (message) => {
    const probe = classifyRedisError(message, redisAt);
    if (probe.state === "misconfigured") {
      // At startup check() stops etserver with this message; later it can only be logged.
      if (checked) logger.error(probe.message);
      return;
    }
    redisDown = true;
    logger.warn(`redis at ${redisAt.address} does not answer; retrying, calls get Unavailable until it does`, { reason: message });
  });
  redis.on("ready", () => {
    if (!redisDown) return;
    redisDown = false;
    logger.info(`redis at ${redisAt.address} answers again`);
  });
  const prefix = config.redis.keyPrefix;
  // Subscriptions need a connection of their own; its outages are the same Redis's, already logged above.
  const subscriber: Redis = connectRedisSubscriber(config.redis, (message) => logger.debug("redis subscriber connection", { reason: message }));
  const feed = new RedisValueFeed(subscriber, prefix, (ended) => logger.warn(`redis subscriber connection at ${redisAt.address} lost; ${ended} watches ended with Unavailable`));

  const retryMysql = () => {
    mysqlRetry = setTimeout(() => {
      void probeMysql(pool, mysqlAt).then((probe) => {
        if (mysqlRetry === undefined) return;
        if (probe.state === "down") return retryMysql();
        mysqlRetry = undefined;
        if (probe.state === "ready") logger.info(`mysql at ${mysqlAt.address} answers`);
        else logger.error(probe.message);
      });
    }, MYSQL_RETRY_MS);
    mysqlRetry.unref();
  };

  return {
    accounts: new MysqlAccountRepository(pool),
    sessions: new RedisSessionRepository(redis, prefix, clock),
    values: new RedisValueRepository(redis, prefix),
    admitting: new RedisAdmittingValueStore(redis, prefix, clock),
    feed,
    limiter: new RedisRateLimiter(redis, prefix),
    failedLogins: new FlexibleFailedLoginLimiter(config.loginLimiter, { client: redis, keyPrefix: prefix }),
    quotaStore: new MysqlQuotaRepository(pool),
    async check() {
      const [mysqlProbe, redisProbe] = await Promise.all([
        probeMysql(pool, mysqlAt),
        probeRedis(redis, redisAt, Math.max(config.redis.commandTimeoutMs, MYSQL_CONNECT_TIMEOUT_MS)),
      ]);
      checked = true;
      for (const probe of [mysqlProbe, redisProbe]) if (probe.state === "misconfigured") throw new StoreMisconfiguredError(probe.message);
      // So that a watch opened right after startup finds the subscriber connected; one that does not answer is retried like any other.
      if (redisProbe.state === "ready") await waitForRedis(subscriber, config.redis.commandTimeoutMs).catch(() => undefined);
      if (mysqlProbe.state === "down") {
        logger.warn(`mysql at ${mysqlAt.address} does not answer yet; retrying, calls get Unavailable until it does`, { reason: mysqlProbe.reason });
        retryMysql();
      }
    },
    async close() {
      if (mysqlRetry !== undefined) clearTimeout(mysqlRetry);
      mysqlRetry = undefined;
      feed.close();
      await Promise.allSettled([pool.end(), redis.quit().catch(() => redis.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}
