import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { watchEtserver, type ChildServer } from "./etserver.js";
import { environmentWithout, runToCompletion, type ProcessResult } from "./processes.js";

/**
 * Runs the commands a markdown page shows, so that the page and the
 * product cannot drift apart.
 *
 * - A ```` ```sh ```` block is a list of commands, one per line (`# …` is a
 *   comment). Each must exit 0. `npx etserver` without `migrate`, `seed` or
 *   `--help` starts a server: the runner waits for its
 *   `etserver listening on HOST:PORT` line, points the block's later
 *   `npx etclient` commands at it (`ETCLIENT_ADDRESS`), and stops it with
 *   SIGTERM at the end of the block (it must exit 0). `export K=V` sets the
 *   environment of the page's later commands.
 * - A ```` ```console ```` block is a transcript: `$ command`, then exactly
 *   what it prints (stdout, then stderr), then `[exit N]` when N is not 0.
 * - `<!-- doc-test: output varies -->` right before a block compares the
 *   transcript's shape only: every number and Go duration is masked.
 * - `<!-- doc-test: replace "A" with "B" -->` right before a block runs its
 *   commands with A replaced by B (e.g. a smaller seed), visibly in the page's
 *   source.
 *
 * Commands run under bash in a scratch directory, where `npx etserver` and
 * `npx etclient` are this checkout's bins and `npm run certs` is
 * `certs/make-certs.sh certs`. When `DOC_ETSERVER_CONFIG` is set, every
 * etserver command without its own `--config` also gets
 * `--config $DOC_ETSERVER_CONFIG` (a test config:
 * a free port instead of 8443, a test Redis key prefix), and paths under the
 * scratch directory print as {@link DOC_HOME} in transcripts.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../../..");

/** One command of a page, with what the page says it does. */
export interface DocCommand {
  /** The command as the page shows it (after any `replace` directive). */
  readonly command: string;
  /** 1-based line of the page it is on. */
  readonly line: number;
  /** `sh`: must exit 0; `console`: must print `expected` and exit with `exit`. */
  readonly kind: "sh" | "console";
  /** The transcript's output lines (console only). */
  readonly expected: string;
  /** The transcript's exit code (console only; 0 when not shown). */
  readonly exit: number;
  /** Compare the output's shape only (numbers and durations masked). */
  readonly varies: boolean;
  /** Index of the block it is in, to group servers by block. */
  readonly block: number;
}

/** Extracts the commands of `markdown` in page order. */
export function docCommands(markdown: string): DocCommand[] {
  const lines = markdown.split("\n");
  const commands: DocCommand[] = [];
  let block = 0;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(sh|console)\s*$/.exec(lines[i] ?? "");
    if (fence === null) continue;
    const kind = fence[1] as "sh" | "console";
    block++;
    const directives: string[] = [];
    for (let j = i - 1; j >= 0 && /^<!-- doc-test: .* -->$/.test(lines[j] ?? ""); j--) directives.push(lines[j] ?? "");
    const varies = directives.some((d) => d.includes("output varies"));
    const replacements = directives.flatMap((d) => {
      const m = /replace "(.+)" with "(.+)"/.exec(d);
      return m === null ? [] : [[m[1] ?? "", m[2] ?? ""] as const];
    });
    const rewrite = (command: string) => replacements.reduce((text, [from, to]) => text.split(from).join(to), command);
    const body: { text: string; line: number }[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ""); i++) body.push({ text: lines[i] ?? "", line: i + 1 });
    if (kind === "sh") {
      for (const { text, line } of body) {
        const command = text.replace(/\s+#.*$/, "").trim();
        if (command === "" || command.startsWith("#")) continue;
        commands.push({ command: rewrite(command), line, kind, expected: "", exit: 0, varies, block });
      }
      continue;
    }
    let current: { command: string; line: number; output: string[] } | undefined;
    const flush = () => {
      if (current === undefined) return;
      while (current.output.at(-1) === "") current.output.pop();
      const last = current.output.at(-1);
      const exit = last !== undefined && /^\[exit \d+\]$/.test(last) ? Number(/\d+/.exec(last)?.[0]) : 0;
      if (exit !== 0) current.output.pop();
      commands.push({ command: rewrite(current.command), line: current.line, kind, expected: current.output.join("\n"), exit, varies, block });
      current = undefined;
    };
    for (const { text, line } of body) {
      if (text.startsWith("$ ")) {
        flush();
        current = { command: text.slice(2), line, output: [] };
      } else current?.output.push(text);
    }
    flush();
  }
  return commands;
}

/** The output of a `varies` transcript with every number and Go duration masked. */
export function shapeOf(text: string): string {
  return text.replace(/\d+(\.\d+)?/g, "N").replace(/(N(ms|µs|ns|h|m|s))+/g, "D");
}

/** What one command did. */
export type CommandResult = ProcessResult;

const SHELL_PRELUDE = `
set -o pipefail
npx() {
  case "$1" in
    etserver) shift
      case " $* " in
        *" --config "*) node "$ETSERVER_BIN" "$@" ;;
        *) node "$ETSERVER_BIN" "$@" \${DOC_ETSERVER_CONFIG:+--config "$DOC_ETSERVER_CONFIG"} ;;
      esac ;;
    etclient) shift; node "$ETCLIENT_BIN" "$@" ;;
    *) echo "doc test: npx $1 is not one of this repo's bins" >&2; return 127 ;;
  esac
}
npm() {
  if [ "$1 $2" = "run certs" ]; then bash "$REPO/certs/make-certs.sh" certs >/dev/null; else echo "doc test: npm $* is not run here" >&2; return 127; fi
}
`;

/** Where and how a page's commands run. */
export interface DocEnvironment {
  /** Scratch working directory (a config.yaml there sets a free port and a test key prefix). */
  readonly cwd: string;
  /** Environment for every command (e.g. ETCLIENT_ADDRESS of a test server). */
  readonly env: Record<string, string>;
}

function shellEnv(environment: DocEnvironment): Record<string, string> {
  return {
    ...environmentWithout(/^(ETSERVER_|ETCLIENT_)/),
    ...environment.env,
    REPO: repo,
    ETSERVER_BIN: path.join(repo, "examples/etserver/bin/etserver.js"),
    ETCLIENT_BIN: path.join(repo, "examples/etclient/bin/etclient.js"),
  };
}

/** Runs one command to completion (killed after `killAfterMs`). */
export function runDocCommand(command: string, environment: DocEnvironment, killAfterMs = 60_000): Promise<CommandResult> {
  return runToCompletion("bash", ["-c", `${SHELL_PRELUDE}\n${command}`], { cwd: environment.cwd, env: shellEnv(environment), killAfterMs });
}

/** True for `npx etserver …` that serves (not migrate, seed or --help). */
export function isServeCommand(command: string): boolean {
  const words = command.split(/\s+/);
  const at = words.indexOf("etserver");
  if (words[at - 1] !== "npx" || at < 0) return false;
  return !words.some((w) => w === "migrate" || w === "seed" || w === "--help" || w === "-h");
}

/** Starts a serving `npx etserver …` and waits for its listening line. */
export function startDocServer(command: string, environment: DocEnvironment): Promise<ChildServer> {
  // exec: the shell becomes node, so SIGTERM reaches etserver itself.
  const exec = `${command.replace(/\bnpx etserver\b/, 'exec node "$ETSERVER_BIN"')} \${DOC_ETSERVER_CONFIG:+--config "$DOC_ETSERVER_CONFIG"}`;
  return watchEtserver(spawn("bash", ["-c", `${SHELL_PRELUDE}\n${exec}`], { cwd: environment.cwd, env: shellEnv(environment), stdio: ["ignore", "pipe", "pipe"] }));
}

/** The working directory prints as this in transcripts. */
export const DOC_HOME = "/home/me";

/**
 * Defines one test per command of `markdown`, run in page order against
 * `environment`; output paths under the scratch directory print as
 * {@link DOC_HOME}.
 */
export function defineDocTests(markdown: string, environment: () => DocEnvironment): void {
  const commands = docCommands(markdown);
  const servers: ChildServer[] = [];
  let block = -1;
  const extraEnv: Record<string, string> = {};
  const stopServers = async () => {
    const stopping = servers.splice(0);
    delete extraEnv["ETCLIENT_ADDRESS"];
    for (const server of stopping) expect(await server.stop(), `server at ${server.address} stops cleanly`).toBe(0);
  };
  afterAll(stopServers);

  it("shows commands", () => {
    expect(commands.length).toBeGreaterThan(0);
  });

  for (const doc of commands) {
    it(`line ${doc.line}: ${doc.command}`, async () => {
      if (doc.block !== block) {
        await stopServers();
        block = doc.block;
      }
      const base = environment();
      const env: DocEnvironment = { cwd: base.cwd, env: { ...base.env, ...extraEnv } };
      const exported = /^export (\w+)=(\S+)$/.exec(doc.command);
      if (exported !== null) {
        const value = await runDocCommand(`printf %s "${exported[2]}"`, env);
        extraEnv[exported[1] ?? ""] = value.stdout;
        return;
      }
      if (doc.kind === "sh" && isServeCommand(doc.command)) {
        const server = await startDocServer(doc.command, env);
        servers.push(server);
        extraEnv["ETCLIENT_ADDRESS"] = server.address;
        return;
      }
      const result = await runDocCommand(doc.command, env);
      if (doc.kind === "sh") {
        expect(result.code, `${doc.command}\n${result.stderr}`).toBe(0);
        return;
      }
      const output = `${result.stdout}${result.stderr}`.split(base.cwd).join(DOC_HOME).replace(/\n+$/, "");
      expect(result.code, `${doc.command}\n${output}`).toBe(doc.exit);
      if (doc.varies) expect(shapeOf(output)).toBe(shapeOf(doc.expected));
      else expect(output).toBe(doc.expected);
    });
  }
}
