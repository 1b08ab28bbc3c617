import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuePki, type Pki } from "../test-helpers/pki.js";
import { ConfigError, readTlsFiles } from "./index.js";

const names = { certFile: "--cert-file", keyFile: "--key-file", caFile: "--ca-file" };
let pki: Pki;
const file = (name: string) => path.join(pki.dir, name);

beforeAll(() => {
  pki = issuePki(fs.mkdtempSync(path.join(os.tmpdir(), "dora-tls-files-")));
});
afterAll(() => fs.rmSync(pki.dir, { recursive: true, force: true }));

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("readTlsFiles", () => {
  it("reads the files given, and only those", () => {
    expect(readTlsFiles({ certFile: file("server.pem"), keyFile: file("server.key"), caFile: file("ca.pem") }, names)).toEqual({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca });
    expect(readTlsFiles({ caFile: file("ca.pem") }, names)).toEqual({ ca: pki.ca });
    expect(readTlsFiles({}, names)).toEqual({});
  });

  it("names a file it cannot read, with the hint given", () => {
    expect(errorOf(() => readTlsFiles({ caFile: file("absent.pem") }, names, { readHint: " (make certificates first)" }))).toBe(
      `--ca-file: cannot read ${file("absent.pem")}: ENOENT (make certificates first)`,
    );
  });

  it("names a file that holds the wrong thing, and asks whether certificate and key were swapped", () => {
    expect(errorOf(() => readTlsFiles({ certFile: file("server.key"), keyFile: file("server.pem") }, names, { swapHint: "swapped?" }))).toBe(
      `--cert-file: ${file("server.key")} is not a PEM certificate (it holds a private key: swapped?)`,
    );
    expect(errorOf(() => readTlsFiles({ keyFile: file("ca.pem") }, names))).toBe(`--key-file: ${file("ca.pem")} is not a PEM private key (it holds a certificate: are the certificate and key files swapped?)`);
    expect(errorOf(() => readTlsFiles({ caFile: file("ca.key") }, names))).toBe(`--ca-file: ${file("ca.key")} is not a PEM certificate (it holds a private key)`);
  });

  it("refuses a key that does not belong to the certificate", () => {
    expect(errorOf(() => readTlsFiles({ certFile: file("server.pem"), keyFile: file("client.key") }, names))).toBe(
      `--key-file: ${file("client.key")} does not belong to the certificate in ${file("server.pem")}`,
    );
  });
});
