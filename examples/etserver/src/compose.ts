import { createServer, type Interceptor, type Server } from "@dora/runtime";
import { registerKvService } from "@dora/tiger/kv/v1";
import type { Redis } from "ioredis";
import type { Pool } from "mysql2/promise";
import { authInterceptor, limitInterceptor } from "./api/interceptors.js";
import { KvHandler } from "./api/kv-handler.js";
import { AuthenticateUseCase } from "./app/authenticate.js";
import { ReadUseCase, WriteUseCase } from "./app/kv.js";
import { LoginUseCase } from "./app/login.js";
import { RateLimitUseCase } from "./app/rate-limit.js";
import type { AccountRepository } from "./domain/account.js";
import type { ValueRepository } from "./domain/kvstore.js";
import { FixedQuotaRepository, FormulaQuotaRepository, type QuotaRepository } from "./domain/quota.js";
import type { RateLimiter } from "./domain/ratelimiter.js";
import type { SessionRepository } from "./domain/session.js";
import { CachedQuotaRepository } from "./infra/cached-quota-repository.js";
import { parseHostPort, type EtserverConfig } from "./infra/config/etserver-config.js";
import { loadTlsFiles } from "./infra/config/tls-files.js";
import { FlexibleFailedLoginLimiter } from "./infra/failed-login-limiter.js";
import { MemoryRateLimiter } from "./infra/memory/memory-rate-limiter.js";
import { MemorySessionRepository } from "./infra/memory/memory-session-repository.js";
import { MemoryValueRepository } from "./infra/memory/memory-value-repository.js";
import { SyntheticAccountRepository } from "./infra/memory/synthetic-account-repository.js";
import { MysqlAccountRepository } from "./infra/mysql/mysql-account-repository.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { MysqlQuotaRepository } from "./infra/mysql/mysql-quota-repository.js";
import type { EtserverLogger } from "./infra/pino-logger.js";
import { connectRedis, waitForRedis } from "./infra/redis/redis-connection.js";
import { RedisRateLimiter } from "./infra/redis/redis-rate-limiter.js";
import { RedisSessionRepository } from "./infra/redis/redis-session-repository.js";
import { RedisValueRepository } from "./infra/redis/redis-value-repository.js";

/** How long startup waits for the stores before serving anyway, in milliseconds. */
const STARTUP_WAIT_MS = 3000;

/** A wired etserver: its dora server and what it holds open. */
export interface Etserver {
  /** The dora server with KvService and the `auth` and `limit` interceptors. */
  readonly server: Server;
  /** Binds `server.listenAddress` (port 0: a free port) and returns the real address. */
  listen(): Promise<{ host: string; port: number }>;
  /** Graceful shutdown: closes the server (in-flight calls finish), then the stores. */
  close(): Promise<void>;
}

/** The repositories of one store choice, and how to release them. */
interface Stores {
  readonly accounts: AccountRepository;
  readonly sessions: SessionRepository;
  readonly values: ValueRepository;
  readonly limiter: RateLimiter;
  readonly failedLogins: FlexibleFailedLoginLimiter;
  readonly quotaStore: QuotaRepository | undefined;
  /** Waits (bounded) until the stores answer, so the first calls do not fail while connections open; never throws. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: builds stores, use cases, interceptors and the
 * handler from `config` by plain constructor injection.
 * @throws ConfigError when TLS is on and a certificate file cannot be read.
 */
export function createEtserver(config: EtserverConfig, logger: EtserverLogger): Etserver {
  const address = parseHostPort(config.server.listenAddress);
  if (address === undefined) throw new RangeError(`server.listenAddress: expected HOST:PORT, got ${config.server.listenAddress}`);
  const tls = config.server.enableTls ? loadTlsFiles(config.server) : undefined;
  const stores = config.store === "memory" ? memoryStores(config) : mysqlStores(config, logger);

  const quotas: QuotaRepository =
    config.quota.source === "fixed"
      ? new FixedQuotaRepository(config.quota.fixed)
      : config.quota.source === "mysql" && stores.quotaStore !== undefined
        ? new CachedQuotaRepository(stores.quotaStore, config.rateLimiter.capacity)
        : new FormulaQuotaRepository();
  const limits = { maxKeyBytes: config.limits.maxKeyBytes, maxValueBytes: config.limits.maxValueBytes };

  const handler = new KvHandler(
    new LoginUseCase(stores.accounts, stores.sessions, stores.failedLogins, config.session.ttlSeconds),
    new WriteUseCase(stores.values, limits),
    new ReadUseCase(stores.values, limits),
    logger,
  );
  const interceptors: Interceptor[] = [
    authInterceptor(new AuthenticateUseCase(stores.sessions), logger),
    limitInterceptor(new RateLimitUseCase(quotas, stores.limiter), logger),
  ];
  const server = createServer({
    logger,
    interceptors,
    ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key, ca: tls.ca, requestClientCert: true } }),
  });
  registerKvService(server, handler);

  return {
    server,
    async listen() {
      await stores.warmUp();
      return server.listen({ host: address.host, port: address.port });
    },
    async close() {
      try {
        await server.close();
      } finally {
        await stores.close();
      }
    },
  };
}

/** The zero-setup store: a synthetic fleet of accounts, everything else in process memory. */
function memoryStores(config: EtserverConfig): Stores {
  const sessions = new MemorySessionRepository();
  return {
    accounts: new SyntheticAccountRepository(config.memory.users),
    sessions,
    values: new MemoryValueRepository(),
    limiter: new MemoryRateLimiter(config.rateLimiter.capacity),
    failedLogins: new FlexibleFailedLoginLimiter(config.loginLimiter),
    quotaStore: undefined,
    warmUp: () => Promise.resolve(),
    close: () => {
      sessions.close();
      return Promise.resolve();
    },
  };
}

/** Accounts and quotas in MySQL; values, sessions, rate limits and failed-login counts in Redis (shared by every instance). */
function mysqlStores(config: EtserverConfig, logger: EtserverLogger): Stores {
  const pool: Pool = createMysqlPool(config.mysql);
  const redis: Redis = connectRedis(config.redis, (message) => logger.warn("redis unavailable", { reason: message }));
  const prefix = config.redis.keyPrefix;
  return {
    accounts: new MysqlAccountRepository(pool),
    sessions: new RedisSessionRepository(redis, prefix),
    values: new RedisValueRepository(redis, prefix),
    limiter: new RedisRateLimiter(redis, prefix),
    failedLogins: new FlexibleFailedLoginLimiter(config.loginLimiter, { client: redis, keyPrefix: prefix }),
    quotaStore: new MysqlQuotaRepository(pool),
    async warmUp() {
      // A store that is down is not fatal: calls get Unavailable until it answers (SPEC §6).
      const [redisReady, mysqlReady] = await Promise.allSettled([waitForRedis(redis, STARTUP_WAIT_MS), pool.query("SELECT 1 FROM account LIMIT 1")]);
      if (redisReady.status === "rejected") logger.warn("redis is not ready; serving anyway", { reason: String(redisReady.reason) });
      if (mysqlReady.status === "rejected") logger.warn("mysql is not ready (run etserver migrate?); serving anyway", { reason: String(mysqlReady.reason) });
    },
    async close() {
      await Promise.allSettled([pool.end(), redis.quit().catch(() => redis.disconnect())]);
    },
  };
}
