/**
 * `@dora/runtime/config`: loads an application's YAML configuration the way
 * dora programs do (SPEC §4): `config.yaml` from `--config`, else next to the
 * executable, else the working directory (none at all is fine: defaults
 * apply); then environment overrides; then command-line overrides; then one
 * validation against a zod schema. Every error is one line naming the key and
 * where its value came from, e.g.
 *
 *   config /srv/config.yaml: server.bogus: unknown key
 *   ETSERVER_STORE: Invalid option: expected one of "memory"|"mysql"
 *   --workers: Too small: expected number to be >=1
 *
 * Values are never echoed in errors: an environment variable may hold a
 * password. This subpath depends on `yaml` and `zod`; the runtime's core does not.
 *
 * It also holds the small pieces every dora program's configuration needs:
 * `parseHostPort` (`HOST:PORT`, `[v6]:PORT`), `LOG_LEVELS`, and
 * `readTlsFiles` (PEM files checked and named in one-line errors).
 */
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";

import { ConfigError } from "./config-error.js";

export { ConfigError };
export { processSurroundings, type ConfigSurroundings } from "./surroundings.js";
export { readTlsFiles, type ReadTlsFilesOptions, type TlsFileContents, type TlsFileNames, type TlsFilePaths } from "./tls-files.js";
export { parseHostPort, type HostPort } from "../host-port.js";
export { LOG_LEVELS, type LogLevel } from "../logger.js";

/** One command-line override, e.g. `{ key: "server.workers", source: "--workers", value: 4 }`. */
export interface ConfigOverride {
  /** Dotted key it sets. */
  readonly key: string;
  /** Where it came from, used in error messages (the flag as typed). */
  readonly source: string;
  /** Its value; `undefined` means "not given" and is skipped. */
  readonly value: unknown;
}

/** What {@link loadConfig} reads and how. */
export interface LoadConfigOptions<S extends z.ZodType> {
  /** The schema; use strict objects so an unknown key is reported. */
  readonly schema: S;
  /** An explicit file (`--config`); it must exist. Relative to `cwd`. */
  readonly file?: string | undefined;
  /** Directories searched in order for `fileName` when `file` is not given. Default: [cwd]. */
  readonly searchDirs?: readonly string[];
  /** Name searched for in `searchDirs`. Default "config.yaml". */
  readonly fileName?: string;
  /** The working directory. Default process.cwd(). */
  readonly cwd?: string;
  /** The environment. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Environment variable → dotted key it overrides, e.g. `{ ETSERVER_STORE: "store" }`. */
  readonly envMap?: Readonly<Record<string, string>>;
  /** Overrides applied last (flags). */
  readonly overrides?: readonly ConfigOverride[];
  /**
   * Dotted keys holding file paths. A path written in the file is resolved
   * against the file's directory; any other (environment, flag, default)
   * against `cwd`. Keys whose value is not a string are left alone.
   */
  readonly pathKeys?: readonly string[];
}

/** The outcome of {@link loadConfig}. */
export interface LoadedConfig<T> {
  /** The validated configuration, defaults applied, path keys absolute. */
  readonly config: T;
  /** The file read, if any. */
  readonly file: string | undefined;
  /** Where a key's value came from, for follow-up checks: `"--flag"`, `"ENV_NAME"` or `"config FILE: key"`. */
  sourceOf(key: string): string;
}

/** The first `fileName` found in `dirs`, in order. */
export function findConfigFile(dirs: readonly string[], fileName = "config.yaml"): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, fileName);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Reads, overrides and validates a configuration.
 *
 * @throws ConfigError naming the file or variable or flag, and the key.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): LoadedConfig<z.output<S>> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = options.file !== undefined ? path.resolve(cwd, options.file) : findConfigFile(options.searchDirs ?? [cwd], options.fileName);
  const raw = file === undefined ? {} : readYamlMapping(file);
  const fromFile = new Set<string>();
  for (const key of options.pathKeys ?? []) if (typeof getPath(raw, key) === "string") fromFile.add(key);

  const origin = new Map<string, string>();
  for (const [name, key] of Object.entries(options.envMap ?? {})) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    setPath(raw, key, envScalar(value));
    origin.set(key, name);
  }
  for (const override of options.overrides ?? []) {
    if (override.value === undefined) continue;
    setPath(raw, override.key, override.value);
    origin.set(override.key, override.source);
  }
  const sourceOf = (key: string): string => origin.get(key) ?? `config ${file ?? "(defaults)"}: ${key}`;

  const result = options.schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    let parts = issue?.path.map(String) ?? [];
    let message = issue?.message ?? "invalid";
    if (issue?.code === "unrecognized_keys") {
      parts = [...parts, issue.keys[0] ?? ""];
      message = "unknown key";
    }
    const key = parts.join(".");
    const where = origin.get(key) ?? (key === "" ? `config ${file ?? "(defaults)"}` : `config ${file ?? "(defaults)"}: ${key}`);
    throw new ConfigError(`${where}: ${message}`);
  }
  const config = result.data as z.output<S>;
  if (typeof config === "object" && config !== null) {
    for (const key of options.pathKeys ?? []) {
      const value = getPath(config, key);
      if (typeof value !== "string" || value === "") continue;
      const base = file !== undefined && fromFile.has(key) && !origin.has(key) ? path.dirname(file) : cwd;
      setPath(config as Record<string, unknown>, key, path.resolve(base, value));
    }
  }
  return { config, file, sourceOf };
}

function readYamlMapping(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`config ${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? firstLine(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config ${file}: not valid YAML: ${firstLine(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config ${file}: expected a mapping at the top level`);
  return parsed as Record<string, unknown>;
}

/** An environment value as YAML would read it when it is a number or boolean ("8" → 8, "true" → true); otherwise the string. */
function envScalar(value: string): unknown {
  if (/^(true|false)$/.test(value)) return value === "true";
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n) || !Number.isInteger(n)) return n;
  }
  return value;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] ?? ""] = value;
}

function getPath(target: unknown, dotted: string): unknown {
  let node: unknown = target;
  for (const part of dotted.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
