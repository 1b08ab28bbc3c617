import cluster from "node:cluster";
import type { ConfigSurroundings } from "@dora/runtime/config";
import { COMMON_OPTIONS, parseArgs, SERVE_OPTIONS } from "./cli/parse-args.js";
import { createEtserver, type Etserver } from "./compose.js";
import { ConfigError, loadEtserverConfig, type EtserverConfig, type FlagOverride } from "./infra/config/etserver-config.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { DEFAULT_SEED_CONNECTIONS, seedUsers } from "./infra/mysql/seed.js";
import { createSeedProgress, formatSeedSummary } from "./infra/seed-progress.js";
import { createPinoLogger } from "./infra/pino-logger.js";
import { StoreMisconfiguredError } from "./infra/store-readiness.js";

/** What {@link main} talks to; the bin passes the process's own. */
export interface MainIo extends ConfigSurroundings {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** stderr as a stream, for the seed progress bar. */
  readonly stderr: NodeJS.WriteStream;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<string>;
}

/** Exit codes: 0 done, 1 a configuration, store or startup error, 2 a usage error (SPEC §6). */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/**
 * etserver's command line (SPEC §6): `serve` (default), `migrate`, `seed`.
 * Returns the exit code: 0 after a clean shutdown or a finished command, 1
 * for a configuration, store or startup error, 2 for a usage error; either
 * error is one line on stderr.
 */
export async function main(args: readonly string[], io: MainIo): Promise<number> {
  const parsed = await parseArgs(args);
  if (parsed.kind === "help") {
    io.out(parsed.text);
    return ExitCode.Ok;
  }
  if (parsed.kind === "usage-error") {
    io.err(`etserver: ${parsed.message} (see 'etserver ${parsed.helpCommand === "" ? "" : `${parsed.helpCommand} `}--help')`);
    return ExitCode.Usage;
  }
  const { command, argv } = parsed;

  let config: EtserverConfig;
  try {
    const flags: FlagOverride[] = [...COMMON_OPTIONS, ...SERVE_OPTIONS]
      .filter((o) => o.configKey !== undefined && argv[o.name] !== undefined)
      .map((o) => ({ key: o.configKey ?? "", flag: `--${o.name}`, value: argv[o.name] }));
    config = loadEtserverConfig({ file: argv["config"] as string | undefined, executableDir: io.executableDir, cwd: io.cwd, env: io.env, flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`etserver: ${error.message}`);
      return ExitCode.Failure;
    }
    throw error;
  }

  switch (command.kind) {
    case "serve":
      return config.server.workers > 1 && cluster.isPrimary ? servePrimary(config, io) : serve(config, io);
    case "migrate":
      return runMigrate(config, io);
    case "seed":
      return runSeed(config, io, command.users, command.batchSize);
  }
}

/** Formats an address as `HOST:PORT` (`[v6]:PORT`). */
export function formatHostPort(address: { host: string; port: number }): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Message a cluster worker sends the primary once it listens. */
interface ListeningMessage {
  readonly type: "etserver-listening";
  readonly host: string;
  readonly port: number;
}

/** Runs one serving process until a stop signal, then shuts down gracefully. */
async function serve(config: EtserverConfig, io: MainIo): Promise<number> {
  const logger = createPinoLogger(config.log.level);
  let etserver: Etserver;
  let address: { host: string; port: number };
  try {
    etserver = createEtserver(config, logger);
  } catch (error) {
    io.err(`etserver: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  try {
    address = await etserver.listen();
  } catch (error) {
    // SPEC §6: a store set up wrongly stops startup with one line naming the store and the fix.
    if (error instanceof StoreMisconfiguredError) io.err(`etserver: ${error.message}`);
    else io.err(`etserver: cannot listen on ${config.server.listenAddress}: ${error instanceof Error ? error.message : String(error)}`);
    await etserver.close().catch(() => undefined);
    return ExitCode.Failure;
  }
  if (cluster.isWorker) process.send?.({ type: "etserver-listening", host: address.host, port: address.port } satisfies ListeningMessage);
  else io.out(`etserver listening on ${formatHostPort(address)}`);
  logger.info("listening", { address: formatHostPort(address), store: config.store, tls: config.server.enableTls, config: configFileOf(config) });

  const signal = await io.stopSignal;
  logger.info("shutting down", { signal });
  await etserver.close();
  logger.info("stopped");
  return 0;
}

/** The cluster primary: forks the workers, prints the address once all listen, relays stop signals. */
async function servePrimary(config: EtserverConfig, io: MainIo): Promise<number> {
  const logger = createPinoLogger(config.log.level);
  const wanted = config.server.workers;
  let stopping = false;
  const listening = new Set<number>();
  let announced = false;

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
      if (alive.length === 0) return resolve(code);
      let left = alive.length;
      for (const worker of alive) {
        worker?.once("exit", () => {
          if (--left === 0) resolve(code);
        });
        worker?.process.kill("SIGTERM");
      }
    };
    const fork = () => {
      const worker = cluster.fork();
      worker.on("message", (message: ListeningMessage) => {
        if (message?.type !== "etserver-listening") return;
        listening.add(worker.id);
        if (!announced && listening.size >= wanted) {
          announced = true;
          io.out(`etserver listening on ${formatHostPort(message)}`);
          logger.info("cluster listening", { workers: wanted, address: formatHostPort(message) });
        }
      });
      worker.on("exit", (code, signal) => {
        listening.delete(worker.id);
        if (stopping) return;
        if (!announced) {
          io.err(`etserver: worker exited with ${signal ?? code} during startup`);
          finish(1);
          return;
        }
        logger.error("worker died; starting another", { code, signal });
        setTimeout(fork, 1000).unref();
      });
    };
    for (let i = 0; i < wanted; i++) fork();
    void io.stopSignal.then((signal) => {
      logger.info("shutting down the cluster", { signal });
      finish(0);
    });
  });
}

async function runMigrate(config: EtserverConfig, io: MainIo): Promise<number> {
  try {
    const database = await migrate(config.mysql.url);
    io.out(`migrated database ${database}: tables account, quota`);
    return 0;
  } catch (error) {
    io.err(`etserver migrate: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function runSeed(config: EtserverConfig, io: MainIo, users: number, batchSize: number): Promise<number> {
  if (!Number.isInteger(users) || users < 1) {
    io.err(`etserver seed: --users must be an integer >= 1, got ${users}`);
    return 1;
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) {
    io.err(`etserver seed: --batch-size must be an integer from 1 to 50000, got ${batchSize}`);
    return 1;
  }
  const pool = createMysqlPool({ url: config.mysql.url, poolSize: DEFAULT_SEED_CONNECTIONS });
  const progress = createSeedProgress({ stream: io.stderr, total: users });
  try {
    const result = await seedUsers(pool, { users, batchSize, connections: DEFAULT_SEED_CONNECTIONS, onProgress: (done) => progress.update(done) });
    progress.stop();
    io.out(formatSeedSummary(users, result));
    return 0;
  } catch (error) {
    progress.stop();
    io.err(`etserver seed: ${error instanceof Error ? error.message : String(error)} (run etserver migrate first?)`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

function configFileOf(config: EtserverConfig): string {
  return (config as EtserverConfig & { file?: string }).file ?? "(defaults)";
}
