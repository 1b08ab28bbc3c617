import { createPrivateKey, X509Certificate } from "node:crypto";
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

type TlsKey = "certFile" | "keyFile" | "caFile";

/**
 * Reads the server certificate, key and client CA, and checks that each
 * holds what it should and that the key belongs to the certificate, so that
 * a wrong file is reported by name at startup (SPEC §6: a configuration
 * error is one line naming it) rather than as an OpenSSL error.
 * @throws ConfigError naming the key and the file.
 */
export function loadTlsFiles(paths: { certFile: string; keyFile: string; caFile: string }): TlsFiles {
  const read = (key: TlsKey): Buffer => {
    try {
      return fs.readFileSync(paths[key]);
    } catch (error) {
      throw new ConfigError(`server.${key}: cannot read ${paths[key]}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (make certificates with: npm run certs)`);
    }
  };
  const files = { cert: read("certFile"), key: read("keyFile"), ca: read("caFile") };
  checkPem("certFile", paths.certFile, files.cert, "certificate");
  checkPem("keyFile", paths.keyFile, files.key, "key");
  checkPem("caFile", paths.caFile, files.ca, "certificate");
  if (!new X509Certificate(files.cert).checkPrivateKey(createPrivateKey(files.key))) {
    throw new ConfigError(`server.keyFile: ${paths.keyFile} does not belong to the certificate in ${paths.certFile}`);
  }
  return files;
}

function checkPem(key: TlsKey, file: string, pem: Buffer, holds: "certificate" | "key"): void {
  try {
    if (holds === "certificate") new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    const text = pem.toString("latin1");
    const instead = holds === "certificate" && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? "a private key" : holds === "key" && text.includes("-----BEGIN CERTIFICATE-----") ? "a certificate" : undefined;
    const swapped = instead === undefined ? "" : key === "caFile" ? ` (it holds ${instead})` : ` (it holds ${instead}: are --cert-file and --key-file swapped?)`;
    throw new ConfigError(`server.${key}: ${file} is not a PEM ${holds === "certificate" ? "certificate" : "private key"}${swapped}`);
  }
}
