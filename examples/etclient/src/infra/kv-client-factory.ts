import path from "node:path";
import { readTlsFiles } from "@dora/runtime/config";
import { createClient, createConsoleLogger, type Client, type ClientOptions } from "@dora/runtime";
import { createKvServiceClient, type KvServiceClient } from "@dora/tiger/kv/v1";
import type { ConnectionFlags } from "../cli/invocation.js";
import { ConfigError, type ClientConfig } from "./client-config.js";

/** dora v2 Go peers' frame cap (64 KiB): with `--bare-method-names` no frame above it is sent or accepted (SPEC §3.1). */
export const DORA_V2_GO_MAX_FRAME_BYTES = 64 * 1024;

/** What the TLS files are called in errors (they come from flags or from config.yaml). */
const TLS_FILE_NAMES = { certFile: "TLS certificate file", keyFile: "TLS key file", caFile: "TLS CA file" };

/** The generated kv client over one pooled dora client; `close()` releases the connections. */
export interface KvConnection {
  readonly api: KvServiceClient;
  /** Where the client connects (`HOST:PORT`). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Resolves the client options: flags win over the config (which already
 * carries `ETCLIENT_ADDRESS`). The pool has `server.maxActiveConn`
 * connections (default 10); connections are made lazily on the first call.
 * With TLS, `caFile` (else Node's trusted roots) verifies the server, and
 * `certFile` + `keyFile` present a client certificate (mutual TLS).
 * `--bare-method-names` means a dora v2 Go server, so the client also keeps
 * to its 64 KiB frames: a larger request fails alone with `OutOfRange`
 * instead of making the Go server drop the connection.
 *
 * @throws ConfigError when a TLS file cannot be read or does not hold what
 *   it should (naming the file: swapped certificate and key files are caught
 *   here, not as an OpenSSL error at connect time), when the key does not
 *   belong to the certificate, or when only one of cert/key is given.
 */
export function resolveClientOptions(config: ClientConfig, flags: ConnectionFlags, cwd: string): ClientOptions {
  const address = flags.address ?? config.server.address;
  const options: ClientOptions = {
    address,
    poolSize: config.server.maxActiveConn,
    timeoutMs: flags.timeoutMs,
    connectTimeoutMs: flags.timeoutMs,
    bareMethodNames: flags.bareMethodNames,
    ...(flags.bareMethodNames ? { maxFrameBytes: DORA_V2_GO_MAX_FRAME_BYTES } : {}),
    logger: createConsoleLogger({ level: config.log.level, stream: process.stderr }),
  };
  if (flags.tls ?? config.server.enableTls) {
    const pick = (flag: string | undefined, fromConfig: string | undefined) => (flag !== undefined ? path.resolve(cwd, flag) : fromConfig);
    const caFile = pick(flags.caFile, config.server.caFile);
    const certFile = pick(flags.certFile, config.server.certFile);
    const keyFile = pick(flags.keyFile, config.server.keyFile);
    if ((certFile === undefined) !== (keyFile === undefined)) {
      throw new ConfigError(`TLS: --cert-file and --key-file (server.certFile and server.keyFile) go together; only ${certFile === undefined ? "the key" : "the certificate"} was given`);
    }
    options.tls = readTlsFiles({ certFile, keyFile, caFile }, TLS_FILE_NAMES, { swapHint: "are --cert-file and --key-file swapped?" });
  }
  return options;
}

/** Creates the pooled dora client and the generated kv client on top of it. */
export function connectKv(options: ClientOptions): KvConnection {
  const client: Client = createClient(options);
  return {
    api: createKvServiceClient(client),
    address: Array.isArray(options.address) ? options.address.join(",") : String(options.address),
    close: () => client.close(),
  };
}
