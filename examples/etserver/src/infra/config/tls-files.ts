import { readTlsFiles } from "@dora/runtime/config";

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
 * Reads the server certificate, key and client CA through `readTlsFiles`,
 * which checks that each holds what it should and that the key belongs to
 * the certificate, so that a wrong file is reported by name at startup (SPEC
 * §6: a configuration error is one line naming it) rather than as an OpenSSL
 * error.
 * @throws ConfigError naming the key and the file.
 */
export function loadTlsFiles(paths: { certFile: string; keyFile: string; caFile: string }): TlsFiles {
  const { cert, key, ca } = readTlsFiles(
    paths,
    { certFile: "server.certFile", keyFile: "server.keyFile", caFile: "server.caFile" },
    { readHint: " (make certificates with: npm run certs)", swapHint: "are --cert-file and --key-file swapped?" },
  );
  // All three paths are given, so all three were read.
  if (cert === undefined || key === undefined || ca === undefined) throw new TypeError("a TLS file was not read");
  return { cert, key, ca };
}
