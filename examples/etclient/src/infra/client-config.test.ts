import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadClientConfig } from "./client-config.js";

let root: string;
let exeDir: string;
let cwd: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-config-"));
  exeDir = path.join(root, "bin");
  cwd = path.join(root, "work");
  fs.mkdirSync(exeDir);
  fs.mkdirSync(cwd);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const load = (file?: string, env: Record<string, string> = {}) => loadClientConfig({ file, executableDir: exeDir, cwd, env });

describe("loadClientConfig", () => {
  it("uses the SPEC §7 defaults when there is no file", () => {
    expect(load()).toEqual({ server: { address: "127.0.0.1:8443", maxActiveConn: 10, enableTls: false }, log: { level: "warn" } });
  });

  it("prefers config.yaml next to the executable over the working directory's", () => {
    fs.writeFileSync(path.join(cwd, "config.yaml"), "server: { address: 10.0.0.2:1 }\n");
    expect(load().server.address).toBe("10.0.0.2:1");
    fs.writeFileSync(path.join(exeDir, "config.yaml"), "server: { address: 10.0.0.1:1 }\n");
    expect(load().server.address).toBe("10.0.0.1:1");
  });

  it("reads --config, resolves file paths against it, and lets ETCLIENT_ADDRESS override the file", () => {
    const file = path.join(root, "my.yaml");
    fs.writeFileSync(file, "server:\n  address: 10.0.0.3:9\n  maxActiveConn: 3\n  enableTls: true\n  caFile: certs/ca.pem\nlog: { level: debug }\n");
    const config = load(file);
    expect(config).toEqual({
      server: { address: "10.0.0.3:9", maxActiveConn: 3, enableTls: true, caFile: path.join(root, "certs/ca.pem") },
      log: { level: "debug" },
    });
    expect(load(file, { ETCLIENT_ADDRESS: "127.0.0.1:7" }).server.address).toBe("127.0.0.1:7");
  });

  it.each([
    ["server: { maxActiveConn: 0 }\n", "server.maxActiveConn"],
    ["server: { address: nope }\n", "server.address: expected HOST:PORT"],
    ["server: { adress: 1.2.3.4:5 }\n", "adress"],
    ["log: { level: loud }\n", "log.level"],
    ["server: [\n", "not valid YAML"],
  ])("rejects %j naming %s", (yaml, named) => {
    const file = path.join(root, "bad.yaml");
    fs.writeFileSync(file, yaml);
    expect(() => load(file)).toThrow(ConfigError);
    expect(() => load(file)).toThrow(named);
  });

  it("accepts the committed config.example.yaml, whose values are the defaults", () => {
    const example = path.resolve(import.meta.dirname, "../../config.example.yaml");
    expect(load(example)).toEqual(load());
  });

  it("rejects a missing --config file and a bad ETCLIENT_ADDRESS", () => {
    expect(() => load(path.join(root, "absent.yaml"))).toThrow(/cannot read: ENOENT/);
    expect(() => load(undefined, { ETCLIENT_ADDRESS: "nohost" })).toThrow(/ETCLIENT_ADDRESS/);
  });
});
