import yargs, { type Argv } from "yargs";
import { DEFAULT_PAYLOAD_SIZE } from "../app/letter-payload.js";
import type { BenchmarkMethodName, ConnectionFlags, Credentials, Invocation, KvCommandName, ParseOutcome } from "./invocation.js";
import { UsageError, parseAddress, parseInteger, parseLetter, parseNonEmpty, parseSeconds } from "./validators.js";

/** Largest `--size`: the largest value etserver accepts by default (60 KiB, SPEC §6). */
export const MAX_PAYLOAD_SIZE = 61_440;

/** Default per-call timeout, milliseconds (SPEC §7). */
export const DEFAULT_TIMEOUT_MS = 5000;

const KV_COMMANDS: readonly KvCommandName[] = ["login", "read", "write"];
const CONNECTION_GROUP = "Connection:";

/**
 * Parses etclient's command line (SPEC §7) without side effects: nothing is
 * printed and the process is never exited; the caller gets a
 * {@link ParseOutcome}. yargs only tokenizes and routes; every value is then
 * validated here so that each usage error names its flag.
 *
 * @param args the arguments after the script name (`hideBin(process.argv)`).
 */
export async function parseArgs(args: readonly string[]): Promise<ParseOutcome> {
  let route: Route | undefined;
  let helpText = "";
  const parser = buildParser((r) => {
    route = r;
  });
  let argv: Record<string, unknown>;
  try {
    argv = (await parser.parseAsync([...args], {}, (_err: unknown, _argv: unknown, output: string) => {
      helpText = output;
    })) as Record<string, unknown>;
  } catch (error) {
    return { kind: "usage-error", message: usageMessage(error, args) };
  }
  if (argv["help"] === true) return { kind: "help", text: helpText };
  if (route === undefined) return { kind: "usage-error", message: "missing command (expected login, read, write or benchmark)" };
  try {
    return { kind: "run", invocation: toInvocation(route, argv) };
  } catch (error) {
    if (error instanceof UsageError) return { kind: "usage-error", message: error.message };
    throw error;
  }
}

type Route = { kind: "commands"; commands: string } | { kind: "benchmark"; method: BenchmarkMethodName };

function buildParser(onRoute: (route: Route) => void): Argv {
  const benchmarkMethod = (method: BenchmarkMethodName) => ({
    command: method,
    describe: method === "read" ? "measure ReadSecureMessage of --key" : "measure WriteSecureMessage of --key = --value",
    builder: (y: Argv) => {
      accountOptions(y.usage(`Usage: $0 benchmark ${method} [options]`), true, method === "write");
      return y
        .option("concurrency", { alias: "c", type: "number", default: 1, describe: "concurrent workers" })
        .option("requests", { alias: "r", type: "number", describe: "requests per worker [default: 1]" })
        .option("duration", { type: "number", describe: "run for this many seconds instead of --requests" })
        .option("json", { type: "boolean", default: false, describe: "print only the report object, as one line of JSON" });
    },
    handler: () => onRoute({ kind: "benchmark", method }),
  });
  return yargs()
    .scriptName("etclient")
    .usage(
      "Usage: $0 COMMAND[,COMMAND...] [options]\n\n" +
        "Commands separated by ',' run left to right in one session, e.g. '$0 login,read -u 1 -p 1 -k a'.",
    )
    .command("login", "log in as --user with --password", (y) => accountOptions(y.usage("Usage: $0 login [options]"), false, false), () =>
      onRoute({ kind: "commands", commands: "login" }),
    )
    .command("read", "read --key", (y) => accountOptions(y.usage("Usage: $0 read [options]"), true, false), () => onRoute({ kind: "commands", commands: "read" }))
    .command("write", "write --key = --value", (y) => accountOptions(y.usage("Usage: $0 write [options]"), true, true), () =>
      onRoute({ kind: "commands", commands: "write" }),
    )
    .command(
      "benchmark",
      "load-test read or write: 'benchmark read|write'",
      (y) =>
        y
          .usage("Usage: $0 benchmark read|write [options]")
          .command(benchmarkMethod("read"))
          .command(benchmarkMethod("write"))
          .demandCommand(1, "benchmark needs a method: read or write"),
    )
    .command(
      "$0 <commands>",
      "composed commands, e.g. login,write,read",
      (y) => accountOptions(y.positional("commands", { type: "string", describe: "login, read, write separated by ','" }), true, true),
      (argv) => onRoute({ kind: "commands", commands: String(argv["commands"]) }),
    )
    .option("address", { type: "string", group: CONNECTION_GROUP, describe: "server HOST:PORT [default: config server.address, else 127.0.0.1:8443]" })
    .option("tls", { type: "boolean", group: CONNECTION_GROUP, describe: "connect with TLS (--no-tls to disable) [default: config server.enableTls]" })
    .option("cert-file", { type: "string", group: CONNECTION_GROUP, describe: "PEM client certificate (mutual TLS)" })
    .option("key-file", { type: "string", group: CONNECTION_GROUP, describe: "PEM client private key (mutual TLS)" })
    .option("ca-file", { type: "string", group: CONNECTION_GROUP, describe: "PEM CA certificate that signs the server's" })
    .option("timeout-ms", { type: "number", default: DEFAULT_TIMEOUT_MS, group: CONNECTION_GROUP, describe: "per-call timeout in milliseconds" })
    .option("bare-method-names", { type: "boolean", default: false, group: CONNECTION_GROUP, describe: "send bare method names (Login), for dora v2 Go servers" })
    .option("config", { type: "string", describe: "config.yaml to use [default: next to the executable, else the working directory]" })
    .alias("help", "h")
    .version(false)
    .strict()
    .parserConfiguration({ "duplicate-arguments-array": false })
    .wrap(100)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

function accountOptions(y: Argv, withKey: boolean, withValue: boolean): Argv {
  y.option("user", { alias: "u", type: "string", default: "1", describe: "username" }).option("password", {
    alias: "p",
    type: "string",
    default: "1",
    describe: "password",
  });
  if (withKey) y.option("key", { alias: "k", type: "string", default: "a", describe: "key, one letter a-z" });
  if (withValue) y.option("value", { alias: "v", type: "string", default: "a", describe: "value, one letter a-z" });
  if (withKey) y.option("size", { type: "number", default: DEFAULT_PAYLOAD_SIZE, describe: "bytes of key and value on the wire (the letter repeated)" });
  return y;
}

function toInvocation(route: Route, argv: Record<string, unknown>): Invocation {
  const credentials: Credentials = {
    user: parseNonEmpty("--user", argv["user"]),
    password: typeof argv["password"] === "string" ? argv["password"] : "",
    key: parseLetter("--key", argv["key"] ?? "a"),
    value: parseLetter("--value", argv["value"] ?? "a"),
    size: parseInteger("--size", argv["size"] ?? DEFAULT_PAYLOAD_SIZE, 1, MAX_PAYLOAD_SIZE),
  };
  const connection = toConnection(argv);
  if (route.kind === "commands") return { kind: "commands", commands: parseCommandList(route.commands), ...credentials, connection };
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
    if (name === "") throw new UsageError(`empty command in "${text}" (commands are separated by a single ',')`);
    throw new UsageError(`unknown command "${name}" (expected login, read, write or benchmark)`);
  });
}

function usageMessage(error: unknown, args: readonly string[]): string {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(/\s+/g, " ").trim();
  // `benchmark delete`: yargs reports an unknown positional as an unknown argument.
  const method = args[0] === "benchmark" ? args[1] : undefined;
  if (method !== undefined && message === `Unknown argument: ${method}`) {
    return `unknown benchmark method "${method}" (expected read or write)`;
  }
  return message.replace(/^Unknown arguments?: /, (prefix) => prefix.toLowerCase());
}
