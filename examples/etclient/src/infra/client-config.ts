import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { isHostPort } from "../cli/validators.js";

/** A config file or environment value that cannot be used: the CLI prints it on one line and exits with 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Default server address when neither config, environment nor `--address` gives one. */
export const DEFAULT_ADDRESS = "127.0.0.1:8443";

const fileName = z.string().min(1, "must not be empty");

/**
 * etclient's config.yaml (SPEC §7). Unknown keys are errors, so a typo is
 * reported instead of silently ignored.
 */
export const clientConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        /** `HOST:PORT`. Default 127.0.0.1:8443. */
        address: z.string().refine(isHostPort, "expected HOST:PORT with a port from 1 to 65535").default(DEFAULT_ADDRESS),
        /** Connections in the client's pool. Default 10. */
        maxActiveConn: z.number().int().min(1).max(1000).default(10),
        /** Connect with TLS. Default false. */
        enableTls: z.boolean().default(false),
        /** PEM client certificate, for mutual TLS. Relative to the config file. */
        certFile: fileName.optional(),
        /** PEM client key, for mutual TLS. Relative to the config file. */
        keyFile: fileName.optional(),
        /** PEM CA that signs the server certificate. Relative to the config file. */
        caFile: fileName.optional(),
      })
      .prefault({}),
    log: z
      .strictObject({
        /** Runtime log level, written to stderr. Default "warn". */
        level: z.enum(["debug", "info", "warn", "error", "silent"]).default("warn"),
      })
      .prefault({}),
  })
  .prefault({});

/** The validated config, defaults applied; file paths are absolute. */
export type ClientConfig = z.infer<typeof clientConfigSchema>;

/** Where to look for config.yaml and what the environment says. */
export interface ConfigSources {
  /** `--config FILE`: must exist when given. */
  readonly file: string | undefined;
  /** Directory of the executable; its config.yaml wins over the working directory's. */
  readonly executableDir: string;
  /** The working directory. */
  readonly cwd: string;
  /** The environment; `ETCLIENT_ADDRESS` overrides `server.address`. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Loads config.yaml from `--config`, else next to the executable, else the
 * working directory (none is fine: defaults apply), validates it, then
 * applies `ETCLIENT_ADDRESS`. Flags are applied later by the caller, so they
 * win over both.
 *
 * @throws ConfigError naming the file and the key, e.g.
 *   `config /x/config.yaml: server.maxActiveConn: Too small: expected number to be >=1`.
 */
export function loadClientConfig(sources: ConfigSources): ClientConfig {
  const file = sources.file !== undefined ? path.resolve(sources.cwd, sources.file) : findConfigFile([sources.executableDir, sources.cwd]);
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(`config ${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(`config ${file}: not valid YAML: ${firstLine(error)}`);
    }
  }
  const parsed = clientConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `;
    throw new ConfigError(`config ${file ?? "(defaults)"}: ${where}${issue?.message ?? "invalid"}`);
  }
  const config = parsed.data;
  if (file !== undefined) {
    const dir = path.dirname(file);
    for (const key of ["certFile", "keyFile", "caFile"] as const) {
      const value = config.server[key];
      if (value !== undefined) config.server[key] = path.resolve(dir, value);
    }
  }
  const envAddress = sources.env["ETCLIENT_ADDRESS"];
  if (envAddress !== undefined && envAddress !== "") {
    if (!isHostPort(envAddress)) throw new ConfigError(`ETCLIENT_ADDRESS: expected HOST:PORT with a port from 1 to 65535, got ${JSON.stringify(envAddress)}`);
    config.server.address = envAddress;
  }
  return config;
}

/** The first `config.yaml` found in `dirs`, in order. */
export function findConfigFile(dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, "config.yaml");
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
