import { DEFAULT_PAYLOAD_SIZE } from "../app/letter-payload.js";

/** Default per-call timeout, milliseconds (SPEC §7). */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Largest `--size`: the largest value etserver accepts by default (60 KiB, SPEC §6). */
export const MAX_PAYLOAD_SIZE = 61_440;

/**
 * One command-line option of etclient: how yargs reads it and how the help
 * shows it. The parser and the help are both built from these, so they
 * cannot disagree.
 */
export interface OptionSpec {
  /** Long name, without dashes (`user`). */
  readonly name: string;
  /** One-letter alias (`u`). */
  readonly alias?: string;
  /** The value's placeholder in the help (`NAME`); absent for a switch (boolean). */
  readonly arg?: string;
  /** What yargs parses the value as. */
  readonly type: "string" | "number" | "boolean";
  /** Default applied by yargs, if any. */
  readonly default?: string | number | boolean;
  /** One line of help, at most 50 columns. */
  readonly describe: string;
}

/** The options of the kv commands, in the order the help lists them. */
export const ACCOUNT_OPTIONS = {
  user: { name: "user", alias: "u", arg: "NAME", type: "string", default: "1", describe: 'username (default "1")' },
  password: { name: "password", alias: "p", arg: "PASS", type: "string", default: "1", describe: 'password (default "1")' },
  key: { name: "key", alias: "k", arg: "LETTER", type: "string", default: "a", describe: 'key, one letter a-z (default "a")' },
  value: { name: "value", alias: "v", arg: "LETTER", type: "string", default: "a", describe: 'value, one letter a-z (default "a")' },
  size: { name: "size", arg: "N", type: "number", default: DEFAULT_PAYLOAD_SIZE, describe: `bytes of key and value sent (default ${DEFAULT_PAYLOAD_SIZE})` },
} as const satisfies Record<string, OptionSpec>;

/** The options only `benchmark read|write` takes. */
export const BENCHMARK_OPTIONS: readonly OptionSpec[] = [
  { name: "concurrency", alias: "c", arg: "N", type: "number", default: 1, describe: "concurrent workers (default 1)" },
  { name: "requests", alias: "r", arg: "N", type: "number", describe: "requests per worker (default 1)" },
  { name: "duration", arg: "S", type: "number", describe: "run each worker S seconds instead of -r" },
  { name: "json", type: "boolean", default: false, describe: "print only the report, as one line of JSON" },
];

/** The options only `watch` takes. */
export const WATCH_OPTIONS: readonly OptionSpec[] = [
  { name: "count", arg: "N", type: "number", describe: "stop after N values (default: until Ctrl-C)" },
];

/** Where to connect and how; every command takes them (SPEC §7). */
export const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  { name: "address", arg: "HOST:PORT", type: "string", describe: "server (default: config, else 127.0.0.1:8443)" },
  { name: "tls", type: "boolean", describe: "connect with TLS (--no-tls: without)" },
  { name: "ca-file", arg: "F", type: "string", describe: "PEM CA certificate that signs the server's cert" },
  { name: "cert-file", arg: "F", type: "string", describe: "PEM client certificate, for mutual TLS" },
  { name: "key-file", arg: "F", type: "string", describe: "PEM client private key, for mutual TLS" },
  { name: "timeout-ms", arg: "N", type: "number", default: DEFAULT_TIMEOUT_MS, describe: `per-call timeout in ms (default ${DEFAULT_TIMEOUT_MS})` },
  { name: "bare-method-names", type: "boolean", default: false, describe: "dora v2 Go server: bare names, 64 KiB frames" },
  { name: "config", arg: "FILE", type: "string", describe: "config.yaml (default: next to the bin, else ./)" },
];

/** `-h, --help`. */
export const HELP_OPTION: OptionSpec = { name: "help", alias: "h", type: "boolean", describe: "show this help" };

/** A kv command's own options (SPEC §7: login takes -u -p, read adds -k, write adds -k -v; composed commands take all). */
export function accountOptionsFor(withKey: boolean, withValue: boolean): OptionSpec[] {
  const { user, password, key, value, size } = ACCOUNT_OPTIONS;
  return [user, password, ...(withKey ? [key] : []), ...(withValue ? [value] : []), ...(withKey ? [size] : [])];
}

/** Every option that takes a value, by long name and alias, to name a flag given without one. */
export function valueTakingFlags(): Map<string, OptionSpec> {
  const map = new Map<string, OptionSpec>();
  const all: readonly OptionSpec[] = [...Object.values(ACCOUNT_OPTIONS), ...BENCHMARK_OPTIONS, ...WATCH_OPTIONS, ...CONNECTION_OPTIONS];
  for (const spec of all) {
    if (spec.type === "boolean") continue;
    map.set(spec.name, spec);
    if (spec.alias !== undefined) map.set(spec.alias, spec);
  }
  return map;
}
