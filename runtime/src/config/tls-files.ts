import { createPrivateKey, X509Certificate } from "node:crypto";
import fs from "node:fs";
import { ConfigError } from "./config-error.js";

/** PEM files of a TLS setup, by path; each one is optional. */
export interface TlsFilePaths {
  /** Certificate (chain) presented to the peer. */
  readonly certFile?: string | undefined;
  /** Private key of that certificate. */
  readonly keyFile?: string | undefined;
  /** CA certificate(s) that verify the peer. */
  readonly caFile?: string | undefined;
}

/** What each file is called in an error, e.g. `{ certFile: "server.certFile", … }` or the flag that gave it. */
export type TlsFileNames = { readonly [K in keyof TlsFilePaths]-?: string };

/** The PEM contents of the files given. */
export interface TlsFileContents {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
}

/** How {@link readTlsFiles} words its errors. */
export interface ReadTlsFilesOptions {
  /** Appended to "cannot read" errors, e.g. ` (make certificates with: npm run certs)`. Default none. */
  readonly readHint?: string;
  /** Asked when the certificate and key files hold each other's contents. Default "are the certificate and key files swapped?". */
  readonly swapHint?: string;
}

/**
 * Reads the TLS files given and checks that each holds what it should (a
 * certificate or a private key) and that the key belongs to the certificate,
 * so a wrong file is reported by name when the program starts rather than as
 * an OpenSSL error at connect time. Errors are one line:
 *
 *   server.certFile: cannot read /srv/server.pem: ENOENT
 *   server.certFile: /srv/server.key is not a PEM certificate (it holds a private key: are the certificate and key files swapped?)
 *   server.keyFile: /srv/client.key does not belong to the certificate in /srv/server.pem
 *
 * @throws ConfigError naming the file.
 */
export function readTlsFiles(paths: TlsFilePaths, names: TlsFileNames, options: ReadTlsFilesOptions = {}): TlsFileContents {
  const swapHint = options.swapHint ?? "are the certificate and key files swapped?";
  const read = (which: keyof TlsFilePaths, holds: "certificate" | "key"): Buffer | undefined => {
    const file = paths[which];
    if (file === undefined) return undefined;
    let pem: Buffer;
    try {
      pem = fs.readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${names[which]}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}${options.readHint ?? ""}`);
    }
    try {
      if (holds === "certificate") new X509Certificate(pem);
      else createPrivateKey(pem);
    } catch {
      const text = pem.toString("latin1");
      const instead =
        holds === "certificate" && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? "a private key" : holds === "key" && text.includes("-----BEGIN CERTIFICATE-----") ? "a certificate" : undefined;
      const swapped = instead === undefined ? "" : which === "caFile" ? ` (it holds ${instead})` : ` (it holds ${instead}: ${swapHint})`;
      throw new ConfigError(`${names[which]}: ${file} is not a PEM ${holds === "certificate" ? "certificate" : "private key"}${swapped}`);
    }
    return pem;
  };
  const cert = read("certFile", "certificate");
  const key = read("keyFile", "key");
  const ca = read("caFile", "certificate");
  if (cert !== undefined && key !== undefined && !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    throw new ConfigError(`${names.keyFile}: ${paths.keyFile} does not belong to the certificate in ${paths.certFile}`);
  }
  return { ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(ca === undefined ? {} : { ca }) };
}
