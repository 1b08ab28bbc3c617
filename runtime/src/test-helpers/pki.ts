/**
 * Test certificates: a dev PKI from certs/make-certs.sh, and certificates
 * that expired long ago, signed by the same CA with `openssl ca` (which, unlike
 * `openssl x509` on OpenSSL 3.0, takes explicit start and end dates).
 * Internal module (excluded from the build).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runtimeSrc } from "./load-proto.js";

const makeCerts = path.resolve(runtimeSrc, "../../certs/make-certs.sh");

/** A CA with a server certificate (SANs IP:127.0.0.1, DNS:localhost) and a client certificate (CN etclient). */
export interface Pki {
  readonly dir: string;
  readonly ca: Buffer;
  readonly caKey: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

/** Runs certs/make-certs.sh into `dir`. */
export function issuePki(dir: string): Pki {
  execFileSync("bash", [makeCerts, dir], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CERT_DAYS: "2" } });
  const read = (name: string) => fs.readFileSync(path.join(dir, name));
  return { dir, ca: read("ca.pem"), caKey: read("ca.key"), serverCert: read("server.pem"), serverKey: read("server.key"), clientCert: read("client.pem"), clientKey: read("client.key") };
}

/** A key and a certificate signed by `pki`'s CA, valid only on 1–2 January 2020, for a server or a client. */
export function issueExpired(pki: Pki, kind: "server" | "client"): { cert: Buffer; key: Buffer } {
  const dir = fs.mkdtempSync(path.join(pki.dir, `expired-${kind}-`));
  const file = (name: string) => path.join(dir, name);
  fs.writeFileSync(file("index.txt"), "");
  fs.writeFileSync(file("serial"), "1000\n");
  const ext = kind === "server" ? "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost" : "extendedKeyUsage = clientAuth";
  fs.writeFileSync(
    file("ca.cnf"),
    [
      "[ca]",
      "default_ca = dev",
      "[dev]",
      `database = ${file("index.txt")}`,
      `new_certs_dir = ${dir}`,
      `serial = ${file("serial")}`,
      "default_md = sha256",
      "policy = any",
      "[any]",
      "commonName = supplied",
      "[ext]",
      "basicConstraints = CA:FALSE",
      "keyUsage = critical,digitalSignature",
      ext,
      "",
    ].join("\n"),
  );
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("key.pem")]);
  run(["req", "-new", "-key", file("key.pem"), "-subj", `/CN=expired-${kind}`, "-out", file("req.csr")]);
  run(["ca", "-batch", "-config", file("ca.cnf"), "-cert", path.join(pki.dir, "ca.pem"), "-keyfile", path.join(pki.dir, "ca.key"), "-in", file("req.csr"), "-out", file("cert.pem"), "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "ext"]);
  return { cert: fs.readFileSync(file("cert.pem")), key: fs.readFileSync(file("key.pem")) };
}

/** A self-signed server certificate (SANs IP:127.0.0.1, DNS:localhost) and its key, in `dir`. */
export function issueSelfSigned(dir: string): { cert: Buffer; key: Buffer } {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, "self-signed.key");
  const cert = path.join(dir, "self-signed.pem");
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], { stdio: ["ignore", "ignore", "pipe"] });
  execFileSync(
    "openssl",
    ["req", "-x509", "-new", "-key", key, "-subj", "/CN=localhost", "-days", "2", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "extendedKeyUsage=serverAuth", "-out", cert],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
}
