import cluster from "node:cluster";
import yargs, { type Argv } from "yargs";
import { createEtserver, type Etserver } from "./compose.js";
import { ConfigError, loadEtserverConfig, type EtserverConfig, type FlagOverride } from "./infra/config/etserver-config.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { DEFAULT_SEED_BATCH_SIZE, DEFAULT_SEED_CONNECTIONS, seedUsers } from "./infra/mysql/seed.js";
import { createSeedProgress, formatSeedSummary } from "./infra/seed-progress.js";
import { createPinoLogger } from "./infra/pino-logger.js";

/** What {@link main} talks to; the bin passes the process's own. */
export interface MainIo {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** stderr as a stream, for the seed progress bar. */
  readonly stderr: NodeJS.WriteStream;
  /** Environment (ETSERVER_* overrides). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory. */
  readonly cwd: string;
  /** Directory of the executable, searched first for config.yaml. */
  readonly executableDir: string;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<string>;
}

type Route = { kind: "serve" } | { kind: "migrate" } | { kind: "seed"; users: number; batchSize: number };

/** Flags that override config keys, by yargs name. */
const SERVE_FLAGS: readonly { name: string; key: string }[] = [
  { name: "listen", key: "server.listenAddress" },
  { name: "store", key: "store" },
  { name: "tls", key: "server.enableTls" },
  { name: "cert-file", key: "server.certFile" },
  { name: "key-file", key: "server.keyFile" },
  { name: "ca-file", key: "server.caFile" },
  { name: "workers", key: "server.workers" },
  { name: "log-level", key: "log.level" },
  { name: "memory-users", key: "memory.users" },
];

function commonOptions(y: Argv): Argv {
  return y
    .option("config", { type: "string", describe: "config.yaml to use (default: next to the executable, else the working directory)" })
    .option("log-level", { type: "string", describe: "debug | info | warn | error | silent" });
}

function serveOptions(y: Argv): Argv {
  return commonOptions(y)
    .usage("Usage: $0 [serve] [options]\n       $0 migrate [options]\n       $0 seed --users N [options]")
    .option("listen", { type: "string", describe: "HOST:PORT to listen on (port 0: a free port)" })
    .option("store", { type: "string", describe: "memory | mysql (mysql: accounts and quotas in MySQL, values and sessions in Redis)" })
    .option("tls", { type: "boolean", describe: "serve mutual TLS (--no-tls: plaintext)" })
    .option("cert-file", { type: "string", describe: "PEM server certificate" })
    .option("key-file", { type: "string", describe: "PEM server key" })
    .option("ca-file", { type: "string", describe: "PEM CA that signs client certificates" })
    .option("workers", { type: "number", describe: "processes sharing the port (node:cluster); > 1 needs --store mysql" })
    .option("memory-users", { type: "number", describe: "size of the memory store's synthetic fleet (users 1..N)" });
}

/**
 * etserver's command line (SPEC §6): `serve` (default), `migrate`, `seed`.
 * Returns the exit code: 0 after a clean shutdown or a finished command, 1
 * for a configuration or startup error (one line on stderr).
 */
export async function main(args: readonly string[], io: MainIo): Promise<number> {
  let route: Route | undefined;
  let output = "";
  let failure: string | undefined;
  const parser = yargs()
    .scriptName("etserver")
    .command(["serve", "$0"], "serve KvService (default command)", serveOptions, () => {
      route = { kind: "serve" };
    })
    .command("migrate", "create the MySQL database (if missing) and its tables; idempotent", (y) => commonOptions(y).usage("Usage: $0 migrate [options]"), () => {
      route = { kind: "migrate" };
    })
    .command(
      "seed",
      "create users 1..N in MySQL (password = username, quota by the formula)",
      (y) =>
        commonOptions(y)
          .usage("Usage: $0 seed --users N [options]")
          .option("users", { type: "number", demandOption: true, describe: "create users 1..N" })
          .option("batch-size", { type: "number", default: DEFAULT_SEED_BATCH_SIZE, describe: "rows per INSERT" }),
      (argv) => {
        route = { kind: "seed", users: argv["users"], batchSize: argv["batch-size"] };
      },
    )
    .strict()
    .help()
    .version(false)
    .fail((message, error) => {
      failure = message ?? error?.message ?? "invalid command line";
    })
    .wrap(100);
  const argv = (await parser.parseAsync([...args], {}, (_error: unknown, _argv: unknown, text: string) => {
    output = text;
  })) as Record<string, unknown>;
  if (failure !== undefined) {
    io.err(`etserver: ${failure.split("\n")[0]}`);
    return 1;
  }
  if (argv["help"] === true || route === undefined) {
    if (output !== "") io.out(output);
    return 0;
  }

  let config: EtserverConfig;
  try {
    const flags: FlagOverride[] = SERVE_FLAGS.filter((f) => f.name in argv).map((f) => ({ key: f.key, flag: `--${f.name}`, value: argv[f.name] }));
    config = loadEtserverConfig({ file: argv["config"] as string | undefined, executableDir: io.executableDir, cwd: io.cwd, env: io.env, flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`etserver: ${error.message}`);
      return 1;
    }
    throw error;
  }

  switch (route.kind) {
    case "serve":
      return config.server.workers > 1 && cluster.isPrimary ? servePrimary(config, io) : serve(config, io);
    case "migrate":
      return runMigrate(config, io);
    case "seed":
      return runSeed(config, io, route.users, route.batchSize);
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
    io.err(`etserver: cannot listen on ${config.server.listenAddress}: ${error instanceof Error ? error.message : String(error)}`);
    await etserver.close().catch(() => undefined);
    return 1;
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
