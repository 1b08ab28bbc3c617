import yargs, { type Argv } from "yargs";
import { helpText, type HelpTopic } from "./help.js";
import type { BenchmarkMethodName, ConnectionFlags, Credentials, Invocation, KvCommandName, ParseOutcome } from "./invocation.js";
import {
  accountOptionsFor,
  ACCOUNT_OPTIONS,
  BENCHMARK_OPTIONS,
  CONNECTION_OPTIONS,
  DEFAULT_TIMEOUT_MS,
  MAX_PAYLOAD_SIZE,
  valueTakingFlags,
  WATCH_OPTIONS,
  type OptionSpec,
} from "./options.js";
import { UsageError, parseAddress, parseInteger, parseLetter, parseNonEmpty, parseSeconds } from "./validators.js";

export { DEFAULT_TIMEOUT_MS, MAX_PAYLOAD_SIZE };

const KV_COMMANDS: readonly KvCommandName[] = ["login", "read", "write"];
const VALUE_FLAGS = valueTakingFlags();

/**
 * Parses etclient's command line (SPEC §7) without side effects: nothing is
 * printed and the process is never exited; the caller gets a
 * {@link ParseOutcome}. `--help` is answered from the option table (see
 * help.ts); otherwise yargs tokenizes and routes, and every value is then
 * validated here so that each usage error names its flag.
 *
 * @param args the arguments after the script name (`hideBin(process.argv)`).
 */
export async function parseArgs(args: readonly string[]): Promise<ParseOutcome> {
  const topic = helpTopic(args);
  const helpCommand = topicCommand(topic);
  const end = args.indexOf("--");
  const options = end < 0 ? args : args.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) return { kind: "help", text: helpText(topic) };

  let route: Route | undefined;
  let argv: Record<string, unknown>;
  try {
    argv = (await buildParser((r) => (route = r)).parseAsync([...args])) as Record<string, unknown>;
  } catch (error) {
    return { kind: "usage-error", message: usageMessage(error, args), helpCommand };
  }
  if (route === undefined) return { kind: "usage-error", message: "missing command (expected login, read, write, watch or benchmark)", helpCommand };
  try {
    return { kind: "run", invocation: toInvocation(route, argv) };
  } catch (error) {
    if (error instanceof UsageError) return { kind: "usage-error", message: error.message, helpCommand };
    throw error;
  }
}

type Route = { kind: "commands"; commands: string } | { kind: "benchmark"; method: BenchmarkMethodName } | { kind: "watch" };

/** Adds `specs` to a yargs command. A flag that takes a value must be given one (`requiresArg`): `login -u` is a usage error. */
function addOptions(y: Argv, specs: readonly OptionSpec[]): Argv {
  for (const spec of specs) {
    y.option(spec.name, {
      type: spec.type,
      ...(spec.alias === undefined ? {} : { alias: spec.alias }),
      ...(spec.default === undefined ? {} : { default: spec.default }),
      ...(spec.type === "boolean" ? {} : { requiresArg: true }),
    });
  }
  return y;
}

function buildParser(onRoute: (route: Route) => void): Argv {
  const benchmarkMethod = (method: BenchmarkMethodName) => ({
    command: method,
    describe: false as const,
    builder: (y: Argv) => addOptions(y, [...accountOptionsFor(true, method === "write"), ...BENCHMARK_OPTIONS]),
    handler: () => onRoute({ kind: "benchmark", method }),
  });
  const kvCommand = (name: KvCommandName, withKey: boolean, withValue: boolean) => ({
    command: name,
    describe: false as const,
    builder: (y: Argv) => addOptions(y, accountOptionsFor(withKey, withValue)),
    handler: () => onRoute({ kind: "commands", commands: name }),
  });
  return addOptions(
    yargs()
      .scriptName("etclient")
      .command(kvCommand("login", false, false))
      .command(kvCommand("read", true, false))
      .command(kvCommand("write", true, true))
      .command({
        command: "watch",
        describe: false as const,
        builder: (y: Argv) => addOptions(y, [...accountOptionsFor(true, false), ...WATCH_OPTIONS]),
        handler: () => onRoute({ kind: "watch" }),
      })
      .command("benchmark", false, (y) => y.command(benchmarkMethod("read")).command(benchmarkMethod("write")).demandCommand(1, "benchmark needs a method: read or write"))
      .command(
        "$0 [commands]",
        false,
        (y) => addOptions(y.positional("commands", { type: "string" }), accountOptionsFor(true, true)),
        (argv) => {
          if (typeof argv["commands"] === "string") onRoute({ kind: "commands", commands: argv["commands"] });
        },
      ),
    CONNECTION_OPTIONS,
  )
    .help(false)
    .version(false)
    .strict()
    .parserConfiguration({ "duplicate-arguments-array": false })
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

function toInvocation(route: Route, argv: Record<string, unknown>): Invocation {
  const credentials: Credentials = {
    user: parseNonEmpty("--user", argv["user"]),
    password: typeof argv["password"] === "string" ? argv["password"] : "",
    key: parseLetter("--key", argv["key"] ?? "a"),
    value: parseLetter("--value", argv["value"] ?? "a"),
    size: parseInteger("--size", argv["size"] ?? ACCOUNT_OPTIONS.size.default, 1, MAX_PAYLOAD_SIZE),
  };
  const connection = toConnection(argv);
  if (route.kind === "commands") return { kind: "commands", commands: parseCommandList(route.commands), ...credentials, connection };
  if (route.kind === "watch") {
    const count = argv["count"] === undefined ? undefined : parseInteger("--count", argv["count"], 1);
    return { kind: "watch", ...credentials, count, connection };
  }
  const concurrency = parseInteger("--concurrency", argv["concurrency"], 1, 100_000);
  const duration = argv["duration"] === undefined ? undefined : parseSeconds("--duration", argv["duration"]);
  if (duration !== undefined && argv["requests"] !== undefined) throw new UsageError("--requests and --duration cannot be used together");
  const requests = duration === undefined ? parseInteger("--requests", argv["requests"] ?? 1, 1) : undefined;
  return {
    kind: "benchmark",
    method: route.method,
    ...credentials,
    concurrency,
    requests,
    durationSeconds: duration,
    json: argv["json"] === true,
    connection,
  };
}

function toConnection(argv: Record<string, unknown>): ConnectionFlags {
  const optionalString = (flag: string): string | undefined => {
    const raw = argv[flag];
    return raw === undefined ? undefined : parseNonEmpty(`--${flag}`, raw);
  };
  return {
    address: argv["address"] === undefined ? undefined : parseAddress("--address", argv["address"]),
    tls: typeof argv["tls"] === "boolean" ? argv["tls"] : undefined,
    certFile: optionalString("cert-file"),
    keyFile: optionalString("key-file"),
    caFile: optionalString("ca-file"),
    timeoutMs: parseInteger("--timeout-ms", argv["timeout-ms"], 1, 2_147_483_647),
    bareMethodNames: argv["bare-method-names"] === true,
    configFile: optionalString("config"),
  };
}

/** `login,write,read` → the commands in order; anything else is a usage error naming the bad element. */
export function parseCommandList(text: string): KvCommandName[] {
  const names = text.split(",");
  return names.map((name) => {
    if ((KV_COMMANDS as readonly string[]).includes(name)) return name as KvCommandName;
    if (name === "benchmark") throw new UsageError(`benchmark cannot be composed; run 'etclient benchmark read|write'`);
    if (name === "watch") throw new UsageError(`watch cannot be composed; run 'etclient watch' (it logs in itself)`);
    if (name === "") throw new UsageError(`empty command in "${text}" (commands are separated by a single ',')`);
    throw new UsageError(`unknown command "${name}" (expected login, read, write, watch or benchmark)`);
  });
}

/** The words of the command line that are not options or option values (`benchmark`, `read`). */
function positionals(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") break;
    if (!arg.startsWith("-") || /^-\d/.test(arg)) {
      words.push(arg);
      continue;
    }
    // `--user 100` / `-u 100`: skip the value; `--user=100` and `-u100` carry it.
    const name = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (VALUE_FLAGS.has(name)) i++;
  }
  return words;
}

/** Which help a command line is about, from its first words. */
function helpTopic(args: readonly string[]): HelpTopic {
  const [first, second] = positionals(args);
  if (first === undefined) return { kind: "root" };
  if (first === "benchmark") return second === "read" || second === "write" ? { kind: "benchmark-method", method: second } : { kind: "benchmark" };
  if (first === "watch") return { kind: "watch" };
  const commands = first.split(",");
  if (!commands.every((c) => (KV_COMMANDS as readonly string[]).includes(c))) return { kind: "root" };
  if (commands.length === 1) return { kind: "commands", commands: first, withKey: first !== "login", withValue: first === "write" };
  return { kind: "commands", commands: first, withKey: true, withValue: true };
}

/** `login`, `benchmark read`, `login,read`, or "" for the root help. */
function topicCommand(topic: HelpTopic): string {
  switch (topic.kind) {
    case "root":
      return "";
    case "benchmark":
      return "benchmark";
    case "benchmark-method":
      return `benchmark ${topic.method}`;
    case "watch":
      return "watch";
    case "commands":
      return topic.commands;
  }
}

function usageMessage(error: unknown, args: readonly string[]): string {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(/\s+/g, " ").trim();
  const missing = /^Not enough arguments following: (\S+)$/.exec(message);
  if (missing?.[1] !== undefined) {
    const spec = VALUE_FLAGS.get(missing[1]);
    const typed = missing[1].length === 1 ? `-${missing[1]}` : `--${missing[1]}`;
    const named = spec === undefined || typed === `--${spec.name}` ? typed : `${typed} (--${spec.name})`;
    return `${named} needs a value`;
  }
  // `benchmark delete`: yargs reports an unknown positional as an unknown argument.
  const method = args[0] === "benchmark" ? args[1] : undefined;
  if (method !== undefined && message === `Unknown argument: ${method}`) {
    return `unknown benchmark method "${method}" (expected read or write)`;
  }
  return message.replace(/^Unknown arguments?: /, (prefix) => prefix.toLowerCase());
}
