import { ConfigError, findConfigFile, loadConfig, LOG_LEVELS } from "@dora/runtime/config";
import { z } from "zod";
import { isHostPort } from "../cli/validators.js";

/** A config file or environment value that cannot be used: the CLI prints it on one line and exits with 1. */
export { ConfigError, findConfigFile };

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
        level: z.enum(LOG_LEVELS).default("warn"),
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
 * working directory (none is fine: defaults apply), applies
 * `ETCLIENT_ADDRESS`, and validates it, through `@dora/runtime/config`.
 * Flags are applied later by the caller, so they win over both.
 *
 * @throws ConfigError naming the file and the key, e.g.
 *   `config /x/config.yaml: server.maxActiveConn: Too small: expected number to be >=1`.
 */
export function loadClientConfig(sources: ConfigSources): ClientConfig {
  const envAddress = sources.env["ETCLIENT_ADDRESS"];
  if (envAddress !== undefined && envAddress !== "" && !isHostPort(envAddress)) {
    throw new ConfigError(`ETCLIENT_ADDRESS: expected HOST:PORT with a port from 1 to 65535, got ${JSON.stringify(envAddress)}`);
  }
  return loadConfig({
    schema: clientConfigSchema,
    file: sources.file,
    searchDirs: [sources.executableDir, sources.cwd],
    cwd: sources.cwd,
    env: sources.env,
    envMap: { ETCLIENT_ADDRESS: "server.address" },
    pathKeys: ["server.certFile", "server.keyFile", "server.caFile"],
  }).config;
}
