import yargs, { type Argv } from "yargs";
import { DEFAULT_SEED_BATCH_SIZE } from "../infra/mysql/seed.js";

/**
 * etserver's command line (SPEC §6): `serve` (the default), `migrate`,
 * `seed --users N`, `--help` everywhere. Parsing has no side effects: the
 * caller gets a {@link ParseOutcome}. A usage error (unknown flag, a flag
 * without its value, a bad `seed` number) is one line that names the
 * problem, and etserver exits with 2, as etclient does (SPEC §6, §7).
 */

/** One option: how yargs reads it and how the help shows it. */
export interface OptionSpec {
  /** Long name, without dashes. */
  readonly name: string;
  /** The value's placeholder in the help; absent for a switch. */
  readonly arg?: string;
  readonly type: "string" | "number" | "boolean";
  /** One line of help, at most 52 columns. */
  readonly describe: string;
  /** The config key the flag overrides (serve flags). */
  readonly configKey?: string;
}

/** `--config` and `--log-level`, taken by every command. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: "config", arg: "FILE", type: "string", describe: "config.yaml (default: next to the bin, else ./)" },
  { name: "log-level", arg: "L", type: "string", describe: "debug|info|warn|error|silent (default info)", configKey: "log.level" },
];

/**
 * The flags of `serve`, each overriding a config key (SPEC §6); the config
 * schema validates their values. Numbers are read as text and converted when
 * they are decimal, so a bad one is quoted back rather than shown as NaN.
 */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: "listen", arg: "HOST:PORT", type: "string", describe: "address to listen on; port 0 picks a free one", configKey: "server.listenAddress" },
  { name: "store", arg: "memory|mysql", type: "string", describe: "memory (no setup) or MySQL + Redis", configKey: "store" },
  { name: "tls", type: "boolean", describe: "mutual TLS (--no-tls: plaintext, the default)", configKey: "server.enableTls" },
  { name: "cert-file", arg: "F", type: "string", describe: "PEM server certificate (certs/server.pem)", configKey: "server.certFile" },
  { name: "key-file", arg: "F", type: "string", describe: "PEM server private key (certs/server.key)", configKey: "server.keyFile" },
  { name: "ca-file", arg: "F", type: "string", describe: "PEM CA of client certificates (certs/ca.pem)", configKey: "server.caFile" },
  { name: "workers", arg: "N", type: "string", describe: "processes on one port; > 1 needs --store mysql", configKey: "server.workers" },
  { name: "memory-users", arg: "N", type: "string", describe: "memory store: users 1..N exist (1000001)", configKey: "memory.users" },
  { name: "max-connections", arg: "N", type: "string", describe: "open connections; beyond it refused (10000)", configKey: "server.maxConnections" },
];

/** The flags of `seed`. Numbers are read as text so that a bad one can be quoted back. */
export const SEED_OPTIONS: readonly OptionSpec[] = [
  { name: "users", arg: "N", type: "string", describe: "create users 1..N (required)" },
  { name: "batch-size", arg: "B", type: "string", describe: `rows per INSERT (default ${DEFAULT_SEED_BATCH_SIZE})` },
];


/** What the command line asks for. */
export type Command = { readonly kind: "serve" } | { readonly kind: "migrate" } | { readonly kind: "seed"; readonly users: number; readonly batchSize: number };

/** The outcome of parsing: a command to run with its flags, help to print (exit 0), or a usage error (exit 2). */
export type ParseOutcome =
  | { readonly kind: "run"; readonly command: Command; readonly argv: Readonly<Record<string, unknown>> }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "usage-error"; readonly message: string; readonly helpCommand: string };

const COMMANDS = ["serve", "migrate", "seed"] as const;
type CommandName = (typeof COMMANDS)[number];

/** Parses `args` (after the script name). */
export async function parseArgs(args: readonly string[]): Promise<ParseOutcome> {
  const end = args.indexOf("--");
  const options = end < 0 ? args : args.slice(0, end);
  const named = options.find((a) => (COMMANDS as readonly string[]).includes(a)) as CommandName | undefined;
  const helpCommand = named === undefined || named === "serve" ? "" : named;
  if (options.includes("--help") || options.includes("-h")) return { kind: "help", text: helpText(named ?? "serve", named === undefined) };

  let command: Command | undefined;
  let argv: Record<string, unknown>;
  try {
    argv = (await buildParser((c) => (command = c)).parseAsync([...args])) as Record<string, unknown>;
  } catch (error) {
    return { kind: "usage-error", message: usageMessage(error), helpCommand };
  }
  if (command === undefined) return { kind: "usage-error", message: "missing command (expected serve, migrate or seed)", helpCommand };
  if (command.kind === "seed") {
    const users = integerArg("--users", argv["users"], 1, Number.MAX_SAFE_INTEGER);
    const batchSize = argv["batch-size"] === undefined ? DEFAULT_SEED_BATCH_SIZE : integerArg("--batch-size", argv["batch-size"], 1, 50_000);
    if (typeof users === "string") return { kind: "usage-error", message: users, helpCommand };
    if (typeof batchSize === "string") return { kind: "usage-error", message: batchSize, helpCommand };
    command = { kind: "seed", users, batchSize };
  }
  for (const spec of SERVE_OPTIONS) {
    const raw = argv[spec.name];
    if (spec.arg === "N" && typeof raw === "string" && /^\d{1,15}$/.test(raw)) argv[spec.name] = Number(raw);
  }
  return { kind: "run", command, argv };
}

function addOptions(y: Argv, specs: readonly OptionSpec[]): Argv {
  for (const spec of specs) y.option(spec.name, { type: spec.type, ...(spec.type === "boolean" ? {} : { requiresArg: true }) });
  return y;
}

function buildParser(onCommand: (command: Command) => void): Argv {
  return yargs()
    .scriptName("etserver")
    .command(["serve", "$0"], false, (y) => addOptions(y, [...COMMON_OPTIONS, ...SERVE_OPTIONS]), () => onCommand({ kind: "serve" }))
    .command("migrate", false, (y) => addOptions(y, COMMON_OPTIONS), () => onCommand({ kind: "migrate" }))
    .command(
      "seed",
      false,
      (y) => addOptions(y, [...COMMON_OPTIONS, ...SEED_OPTIONS]).demandOption("users"),
      () => onCommand({ kind: "seed", users: 0, batchSize: 0 }),
    )
    .strict()
    .help(false)
    .version(false)
    .parserConfiguration({ "duplicate-arguments-array": false })
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    });
}

/** A decimal integer in [min, max], or the usage error's message. */
function integerArg(flag: string, raw: unknown, min: number, max: number): number | string {
  const text = String(raw);
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return `${flag} must be an integer ${range}, got ${JSON.stringify(text)}`;
}

function usageMessage(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
  const missing = /^Not enough arguments following: (\S+)$/.exec(message);
  if (missing !== null) return `--${missing[1]} needs a value`;
  if (/^Missing required argument: users$/.test(message)) return "seed needs --users N (create users 1..N)";
  if (/^Unknown arguments?: /.test(message)) return message.replace(/^Unknown/, "unknown");
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** Width of the option column in help; every help line fits 80 columns. */
const OPTION_COLUMN = 26;

function optionLine(spec: OptionSpec): string {
  const left = `  --${spec.name}${spec.arg === undefined ? "" : ` ${spec.arg}`}`;
  return `${left.padEnd(OPTION_COLUMN - 1)} ${spec.describe}`;
}

/**
 * The help of a command, as short as the original's: usage, the command's
 * own options, then the options every command takes.
 *
 * @param overview true for `etserver --help`: also list the other commands.
 */
export function helpText(command: CommandName, overview = false): string {
  const common = ["", "Options of every command:", ...COMMON_OPTIONS.map(optionLine)];
  switch (command) {
    case "serve":
      return [
        "Usage: etserver [serve] [options]   serve KvService (the default command)",
        ...(overview
          ? ["       etserver migrate [options]   create the MySQL database and its tables", "       etserver seed --users N      create users 1..N in MySQL"]
          : []),
        "Run 'etserver COMMAND --help' for the options of a command.",
        "",
        ...SERVE_OPTIONS.map(optionLine),
        ...common,
        "",
        "Example: etserver --listen 127.0.0.1:0",
      ].join("\n");
    case "migrate":
      return [
        "Usage: etserver migrate [options]",
        "Create the MySQL database of mysql.url (if missing) and its tables.",
        "Running it again changes nothing.",
        ...common,
      ].join("\n");
    case "seed":
      return [
        "Usage: etserver seed --users N [options]",
        "Create users 1..N in MySQL (password = username, quota by the formula).",
        "",
        ...SEED_OPTIONS.map(optionLine),
        ...common,
      ].join("\n");
  }
}
