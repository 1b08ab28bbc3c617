import { accountOptionsFor, BENCHMARK_OPTIONS, CONNECTION_OPTIONS, WATCH_OPTIONS, type OptionSpec } from "./options.js";

/** Width the option column is padded to; descriptions start after it. Every help line fits 80 columns. */
const OPTION_COLUMN = 28;

/** What `--help` was asked about. */
export type HelpTopic =
  | { readonly kind: "root" }
  | { readonly kind: "commands"; readonly commands: string; readonly withKey: boolean; readonly withValue: boolean }
  | { readonly kind: "benchmark" }
  | { readonly kind: "benchmark-method"; readonly method: "read" | "write" }
  | { readonly kind: "watch" };

const ROOT = `Usage: etclient COMMAND[,COMMAND...] [options]
Run 'etclient COMMAND --help' for the options of a command.

Commands (join them with ',' to run them left to right in one session):
  login       log in as --user with --password
  read        read --key
  write       write --key = --value
  watch       log in, then print each value written to --key
  benchmark   load-test reads or writes: etclient benchmark read|write

Examples:
  etclient login,write,read -u 100 -p 100 -k b -v n
  etclient benchmark read -u 100000 -p 100000 -k c -c 12 -r 10000`;

const BENCHMARK = `Usage: etclient benchmark read|write [options]
Run 'etclient benchmark read --help' (or write) for the options.

Methods:
  read    measure ReadSecureMessage of --key
  write   measure WriteSecureMessage of --key = --value

Example:
  etclient benchmark read -u 100000 -p 100000 -k c -c 12 -r 10000`;

/** What each kv command does, under its usage line. */
const SUMMARY: Readonly<Record<string, string>> = {
  login: "Log in as --user with --password.",
  read: "Read --key; log in first in the same run: etclient login,read",
  write: "Write --key = --value; log in first: etclient login,write",
};

/**
 * The help text of a topic, in the shape of the original etclient's (SPEC
 * §7): the command's own options first, then the connection options under
 * their own heading; one option per line, no line over 80 columns.
 */
export function helpText(topic: HelpTopic): string {
  switch (topic.kind) {
    case "root":
      return ROOT;
    case "benchmark":
      return BENCHMARK;
    case "benchmark-method":
      return withConnection(
        `Usage: etclient benchmark ${topic.method} [options]`,
        topic.method === "read" ? "Measure ReadSecureMessage of --key; the report goes to stdout." : "Measure WriteSecureMessage of --key = --value.",
        [...accountOptionsFor(true, topic.method === "write"), ...BENCHMARK_OPTIONS],
      );
    case "watch":
      return withConnection(
        "Usage: etclient watch [options]",
        "Log in, then print each value written to --key (by any client).",
        [...accountOptionsFor(true, false), ...WATCH_OPTIONS],
      );
    case "commands":
      return withConnection(
        `Usage: etclient ${topic.commands} [options]`,
        SUMMARY[topic.commands] ?? "Run the commands left to right, sharing one login.",
        accountOptionsFor(topic.withKey, topic.withValue),
      );
  }
}

function withConnection(usage: string, summary: string, own: readonly OptionSpec[]): string {
  return [usage, summary, ...own.map(optionLine), "", "Connection options:", ...CONNECTION_OPTIONS.map(optionLine)].join("\n");
}

/** `  -u, --user NAME             username (default "1")`. */
export function optionLine(spec: OptionSpec): string {
  const flag = spec.alias === undefined ? `    --${spec.name}` : `-${spec.alias}, --${spec.name}`;
  const left = `  ${flag}${spec.arg === undefined ? "" : ` ${spec.arg}`}`;
  return `${left.padEnd(OPTION_COLUMN - 1)} ${spec.describe}`;
}
