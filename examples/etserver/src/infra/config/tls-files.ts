import fs from "node:fs";
import { ConfigError } from "./etserver-config.js";

/** PEM material for mutual TLS. */
export interface TlsFiles {
  /** Server certificate chain. */
  readonly cert: Buffer;
  /** Server private key. */
  readonly key: Buffer;
  /** CA that signs client certificates. */
  readonly ca: Buffer;
}

/**
 * Reads the server certificate, key and client CA.
 * @throws ConfigError naming the key and the file that cannot be read.
 */
export function loadTlsFiles(paths: { certFile: string; keyFile: string; caFile: string }): TlsFiles {
  const read = (key: keyof typeof paths): Buffer => {
    try {
      return fs.readFileSync(paths[key]);
    } catch (error) {
      throw new ConfigError(`server.${key}: cannot read ${paths[key]}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (make certificates with: npm run certs)`);
    }
  };
  return { cert: read("certFile"), key: read("keyFile"), ca: read("caFile") };
}
