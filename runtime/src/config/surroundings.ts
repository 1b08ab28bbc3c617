import fs from "node:fs";
import path from "node:path";

/** What a program's configuration is read from besides its flags: its environment, working directory and executable's directory. */
export interface ConfigSurroundings {
  /** The environment (overrides such as `ETSERVER_STORE`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory: relative paths and the last config.yaml searched. */
  readonly cwd: string;
  /** Directory of the executable, searched first for config.yaml. */
  readonly executableDir: string;
}

/**
 * This process's surroundings: `process.env`, `process.cwd()`, and the
 * directory of the script it runs (`process.argv[1]`, links resolved, so an
 * `npx` shim in node_modules/.bin finds the package's config.yaml); the
 * working directory when there is no script.
 */
export function processSurroundings(): ConfigSurroundings {
  const script = process.argv[1];
  const cwd = process.cwd();
  return { env: process.env, cwd, executableDir: script === undefined ? cwd : path.dirname(fs.realpathSync(script)) };
}
