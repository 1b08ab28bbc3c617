import { describe, expect, it } from "vitest";
import { ExitCode, main, type MainIo } from "./main.js";

/** Runs etserver's main in process; only commands that stop before serving are run here. */
async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: MainIo = {
    out: (line) => out.push(...line.split("\n")),
    err: (line) => err.push(line),
    stderr: process.stderr,
    env: {},
    cwd: "/nonexistent",
    executableDir: "/nonexistent",
    stopSignal: new Promise(() => undefined),
  };
  return { code: await main(args, io), out, err };
}

describe("etserver usage errors (SPEC §6: one line naming the problem, exit 2)", () => {
  it.each([
    ["a misspelt flag", ["--listne", "127.0.0.1:0"], "etserver: unknown argument: listne (see 'etserver --help')"],
    ["an unknown command", ["listne"], "etserver: unknown argument: listne (see 'etserver --help')"],
    ["a flag without its value", ["--listen"], "etserver: --listen needs a value (see 'etserver --help')"],
    ["a flag without its value before another flag", ["serve", "--config", "--tls"], "etserver: --config needs a value (see 'etserver --help')"],
    ["seed without --users", ["seed"], "etserver: seed needs --users N (create users 1..N) (see 'etserver seed --help')"],
    ["seed --users without its value", ["seed", "--users"], "etserver: --users needs a value (see 'etserver seed --help')"],
    ["seed --users that is not a number", ["seed", "--users", "abc"], `etserver: --users must be an integer >= 1, got "abc" (see 'etserver seed --help')`],
    ["seed --users 0", ["seed", "--users", "0"], `etserver: --users must be an integer >= 1, got "0" (see 'etserver seed --help')`],
    ["seed --batch-size out of range", ["seed", "--users", "5", "--batch-size", "0"], `etserver: --batch-size must be an integer from 1 to 50000, got "0" (see 'etserver seed --help')`],
    ["migrate with a serve flag", ["migrate", "--listen", "x"], "etserver: unknown argument: listen (see 'etserver migrate --help')"],
  ])("%s", async (_what, args, line) => {
    expect(await run(...args)).toEqual({ code: ExitCode.Usage, out: [], err: [line] });
  });

  it("quotes a bad number given to a serve flag instead of printing NaN (a configuration error, exit 1)", async () => {
    const result = await run("--workers", "abc");
    expect(result.code).toBe(ExitCode.Failure);
    expect(result.err).toEqual(["etserver: --workers: Invalid input: expected number, received string"]);
  });
});

describe("etserver --help (as short as the original's)", () => {
  const flags = (lines: string[]) => lines.flatMap((l) => /^ {2}(--[\w-]+)/.exec(l)?.[1] ?? []);

  it("opens with the usage of every command and points to each command's help", async () => {
    const { code, out, err } = await run("--help");
    expect({ code, err }).toEqual({ code: ExitCode.Ok, err: [] });
    expect(out[0]).toMatch(/^Usage: etserver \[serve\] \[options\]\s+\S/);
    expect(out[1]).toMatch(/^ +etserver migrate /);
    expect(out[2]).toMatch(/^ +etserver seed --users N /);
    expect(out[3]).toContain("etserver COMMAND --help");
    expect(out.length).toBeLessThanOrEqual(20);
    expect(flags(out)).toEqual(["--listen", "--store", "--tls", "--cert-file", "--key-file", "--ca-file", "--workers", "--memory-users", "--max-connections", "--config", "--log-level"]);
  });

  it.each([
    [["serve", "-h"], "Usage: etserver [serve] [options]", ["--listen", "--store", "--tls", "--cert-file", "--key-file", "--ca-file", "--workers", "--memory-users", "--max-connections", "--config", "--log-level"]],
    [["seed", "--help"], "Usage: etserver seed --users N [options]", ["--users", "--batch-size", "--config", "--log-level"]],
    [["migrate", "--help"], "Usage: etserver migrate [options]", ["--config", "--log-level"]],
    [["seed", "--users", "abc", "--help"], "Usage: etserver seed --users N [options]", ["--users", "--batch-size", "--config", "--log-level"]],
  ])("%j lists the command's own options first, one per line within 80 columns", async (args, usage, own) => {
    const { code, out } = await run(...args);
    expect(code).toBe(ExitCode.Ok);
    expect(out[0]?.startsWith(usage)).toBe(true);
    expect(flags(out)).toEqual(own);
    for (const line of out) expect(line.length, line).toBeLessThanOrEqual(80);
    for (const line of out.filter((l) => /^ {2}--/.test(l))) expect(line).toMatch(/^ {2}--[\w-]+(?: \S+)?\s{2,}\S.*\S$/);
  });
});
