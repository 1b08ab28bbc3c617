import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** Paths of a throw-away CA, a server certificate for 127.0.0.1/localhost, and a client certificate, all PEM. */
export interface DevCerts {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * Makes a CA, a server certificate (SANs IP:127.0.0.1, DNS:localhost) and a
 * client certificate in `dir` with the `openssl` command (EC P-256 keys,
 * valid one day). For mutual-TLS tests only.
 */
export function makeDevCerts(dir: string): DevCerts {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const key = (name: string) => openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(name));
  key("ca.key");
  openssl("req", "-x509", "-new", "-key", file("ca.key"), "-subj", "/CN=etclient test CA", "-days", "1", "-out", file("ca.pem"));
  const leaf = (name: string, subject: string, ext: string) => {
    key(`${name}.key`);
    openssl("req", "-new", "-key", file(`${name}.key`), "-subj", subject, "-out", file(`${name}.csr`));
    const extFile = file(`${name}.ext`);
    fs.writeFileSync(extFile, `${ext}\n`);
    openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", extFile, "-out", file(`${name}.pem`));
  };
  leaf("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  leaf("client", "/CN=etclient", "extendedKeyUsage=clientAuth");
  return { ca: file("ca.pem"), serverCert: file("server.pem"), serverKey: file("server.key"), clientCert: file("client.pem"), clientKey: file("client.key") };
}
