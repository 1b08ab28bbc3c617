import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, findConfigFile, loadConfig, LOG_LEVELS } from "./index.js";

const schema = z
  .strictObject({
    server: z
      .strictObject({
        address: z.string().default("127.0.0.1:8443"),
        poolSize: z.number().int().min(1).default(10),
        enableTls: z.boolean().default(false),
        caFile: z.string().default("certs/ca.pem"),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info") }).prefault({}),
    db: z.strictObject({ url: z.string().default("mysql://root@127.0.0.1/app") }).prefault({}),
  })
  .prefault({});

let dir: string;
let exeDir: string;
let cwd: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-config-"));
  exeDir = path.join(dir, "bin");
  cwd = path.join(dir, "work");
  fs.mkdirSync(exeDir);
  fs.mkdirSync(cwd);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (p: string, text: string): string => (fs.writeFileSync(p, text), p);
const load = (extra: Partial<Parameters<typeof loadConfig<typeof schema>>[0]> = {}) =>
  loadConfig({ schema, searchDirs: [exeDir, cwd], cwd, env: {}, pathKeys: ["server.caFile"], ...extra });

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the schema defaults when there is no file", () => {
    const { config, file } = load();
    expect(file).toBeUndefined();
    expect(config.server).toEqual({ address: "127.0.0.1:8443", poolSize: 10, enableTls: false, caFile: path.join(cwd, "certs/ca.pem") });
    expect(config.log.level).toBe("info");
  });

  it("prefers the file next to the executable over the working directory's", () => {
    write(path.join(cwd, "config.yaml"), "server: { poolSize: 3 }\n");
    expect(load().config.server.poolSize).toBe(3);
    const exeFile = write(path.join(exeDir, "config.yaml"), "server: { poolSize: 4 }\n");
    const loaded = load();
    expect(loaded.file).toBe(exeFile);
    expect(loaded.config.server.poolSize).toBe(4);
    expect(findConfigFile([exeDir, cwd])).toBe(exeFile);
  });

  it("reads an explicit file relative to cwd and fails when it is missing", () => {
    write(path.join(cwd, "custom.yaml"), "log: { level: warn }\n");
    expect(load({ file: "custom.yaml" }).config.log.level).toBe("warn");
    expect(errorOf(() => load({ file: "nope.yaml" }))).toBe(`config ${path.join(cwd, "nope.yaml")}: cannot read: ENOENT`);
  });

  it("lets the environment override the file and flags override both, coercing numbers and booleans", () => {
    write(path.join(cwd, "config.yaml"), "server: { address: 10.0.0.1:1, poolSize: 3 }\n");
    const env = { APP_ADDRESS: "10.0.0.2:2", APP_POOL: "7", APP_TLS: "true", APP_EMPTY: "" };
    const envMap = { APP_ADDRESS: "server.address", APP_POOL: "server.poolSize", APP_TLS: "server.enableTls", APP_EMPTY: "log.level" };
    const viaEnv = load({ env, envMap }).config;
    expect(viaEnv.server).toMatchObject({ address: "10.0.0.2:2", poolSize: 7, enableTls: true });
    expect(viaEnv.log.level).toBe("info");
    const viaFlag = load({ env, envMap, overrides: [{ key: "server.address", source: "--address", value: "10.0.0.3:3" }, { key: "server.poolSize", source: "--pool", value: undefined }] });
    expect(viaFlag.config.server.address).toBe("10.0.0.3:3");
    expect(viaFlag.config.server.poolSize).toBe(7);
    expect(viaFlag.sourceOf("server.address")).toBe("--address");
    expect(viaFlag.sourceOf("server.poolSize")).toBe("APP_POOL");
    expect(viaFlag.sourceOf("log.level")).toBe(`config ${path.join(cwd, "config.yaml")}: log.level`);
  });

  it("names an unknown key with its file", () => {
    const file = write(path.join(cwd, "config.yaml"), "server:\n  adress: x\n");
    expect(errorOf(() => load())).toBe(`config ${file}: server.adress: unknown key`);
  });

  it("names a bad value's key and its source without echoing the value", () => {
    const file = write(path.join(cwd, "config.yaml"), "server: { poolSize: 0 }\n");
    expect(errorOf(() => load())).toMatch(new RegExp(`^config ${file}: server\\.poolSize: Too small`));
    fs.rmSync(file);
    const secret = "s3cr3t-password";
    const message = errorOf(() => load({ env: { APP_LEVEL: secret }, envMap: { APP_LEVEL: "log.level" } }));
    expect(message).toMatch(/^APP_LEVEL: /);
    expect(message).not.toContain(secret);
    expect(errorOf(() => load({ overrides: [{ key: "server.poolSize", source: "--pool", value: -1 }] }))).toMatch(/^--pool: Too small/);
  });

  it("reports YAML that does not parse or is not a mapping", () => {
    const file = write(path.join(cwd, "config.yaml"), "server: [unclosed\n");
    expect(errorOf(() => load())).toMatch(new RegExp(`^config ${file}: not valid YAML: `));
    write(file, "- a\n- b\n");
    expect(errorOf(() => load())).toBe(`config ${file}: expected a mapping at the top level`);
    write(file, "");
    expect(load().config.server.poolSize).toBe(10);
  });

  it("resolves path keys against the file's directory when the file sets them, else against cwd", () => {
    const sub = path.join(dir, "etc");
    fs.mkdirSync(sub);
    const file = write(path.join(sub, "app.yaml"), "server: { caFile: tls/ca.pem }\n");
    expect(load({ file }).config.server.caFile).toBe(path.join(sub, "tls/ca.pem"));
    expect(load({ file, overrides: [{ key: "server.caFile", source: "--ca", value: "mine.pem" }] }).config.server.caFile).toBe(path.join(cwd, "mine.pem"));
    write(file, "log: { level: warn }\n");
    expect(load({ file }).config.server.caFile).toBe(path.join(cwd, "certs/ca.pem"));
  });
});
