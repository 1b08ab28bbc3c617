import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadEtserverConfig, type ConfigSources } from "./etserver-config.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-config-"));
const exeDir = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-exe-"));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(exeDir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const base: ConfigSources = { executableDir: exeDir, cwd: exeDir, env: {} };

function errorOf(sources: ConfigSources): string {
  try {
    loadEtserverConfig(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("etserver config", () => {
  it("has the SPEC §6 defaults without any file", () => {
    const config = loadEtserverConfig(base);
    expect(config.file).toBeUndefined();
    expect(config.server).toMatchObject({ listenAddress: "127.0.0.1:8443", enableTls: false, workers: 1 });
    expect(config.store).toBe("memory");
    expect(config.memory.users).toBe(1_000_001);
    expect(config.mysql).toEqual({ url: "mysql://root@127.0.0.1:3306/dora_server", poolSize: 100 });
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379/0", keyPrefix: "dora:", commandTimeoutMs: 1000 });
    expect(config.quota).toEqual({ source: "formula", fixed: 1000 });
    expect(config.rateLimiter.capacity).toBe(10_000);
    expect(config.loginLimiter).toEqual({ maxFailuresPerUser: 10, maxFailuresPerPeer: 100, windowSeconds: 300 });
    expect(config.session.ttlSeconds).toBe(86_400);
    expect(config.limits).toEqual({ maxKeyBytes: 4096, maxValueBytes: 61_440 });
    expect(config.watch).toEqual({ maxPerUser: 16, maxPerConnection: 64, maxPerProcess: 10_000, maxQueuedMessages: 64 });
    expect(config.server.certFile).toBe(path.join(exeDir, "certs/server.pem"));
  });

  it("names an unknown key", () => {
    const file = write("unknown.yaml", "server:\n  listenAdress: 127.0.0.1:1\n");
    expect(errorOf({ ...base, file })).toBe(`config ${file}: server.listenAdress: unknown key`);
    const top = write("unknown-top.yaml", "stores: memory\n");
    expect(errorOf({ ...base, file: top })).toBe(`config ${top}: stores: unknown key`);
  });

  it("names a bad value", () => {
    const file = write("bad.yaml", "server: { workers: 0 }\n");
    expect(errorOf({ ...base, file })).toMatch(new RegExp(`^config ${file}: server.workers: .*>=1`));
    const quota = write("quota.yaml", "quota: { fixed: 0 }\n");
    expect(errorOf({ ...base, file: quota })).toMatch(/quota.fixed/);
    const watch = write("watch.yaml", "watch: { maxQueuedMessages: 0 }\n");
    expect(errorOf({ ...base, file: watch })).toMatch(new RegExp(`^config ${watch}: watch.maxQueuedMessages: .*>=1`));
  });

  it("rejects quota.source mysql with the memory store, and workers > 1 with the memory store", () => {
    const file = write("q.yaml", "quota: { source: mysql }\n");
    expect(errorOf({ ...base, file })).toMatch(/quota.source: "mysql" needs store: mysql/);
    expect(errorOf({ ...base, flags: [{ key: "server.workers", flag: "--workers", value: 2 }] })).toMatch(/^--workers: 2 workers need store: mysql/);
    const ok = loadEtserverConfig({ ...base, file, env: { ETSERVER_STORE: "mysql" }, flags: [{ key: "server.workers", flag: "--workers", value: 2 }] });
    expect(ok.server.workers).toBe(2);
  });

  it("lets the environment override the file and flags override both", () => {
    const file = write("layers.yaml", "store: mysql\nlog: { level: debug }\nmysql: { url: 'mysql://root@127.0.0.1:3306/from_file' }\n");
    const env = { ETSERVER_LOG_LEVEL: "warn", ETSERVER_MYSQL_URL: "mysql://root@127.0.0.1:3306/from_env", ETSERVER_REDIS_URL: "redis://127.0.0.1:1/2", ETSERVER_STORE: "memory" };
    const config = loadEtserverConfig({ ...base, file, env, flags: [{ key: "log.level", flag: "--log-level", value: "error" }] });
    expect(config.log.level).toBe("error");
    expect(config.mysql.url).toBe("mysql://root@127.0.0.1:3306/from_env");
    expect(config.redis.url).toBe("redis://127.0.0.1:1/2");
    expect(config.store).toBe("memory");
    expect(errorOf({ ...base, env: { ETSERVER_STORE: "postgres" } })).toMatch(/^ETSERVER_STORE: /);
    expect(errorOf({ ...base, flags: [{ key: "server.listenAddress", flag: "--listen", value: "nohost" }] })).toMatch(/^--listen: expected HOST:PORT/);
  });

  it("finds config.yaml next to the executable before the working directory, and resolves TLS paths against it", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-cwd-"));
    try {
      fs.writeFileSync(path.join(cwd, "config.yaml"), "memory: { users: 5 }\n");
      expect(loadEtserverConfig({ ...base, cwd }).memory.users).toBe(5);
      fs.writeFileSync(path.join(exeDir, "config.yaml"), "memory: { users: 7 }\nserver: { certFile: tls/s.pem }\n");
      const config = loadEtserverConfig({ ...base, cwd });
      expect(config.memory.users).toBe(7);
      expect(config.server.certFile).toBe(path.join(exeDir, "tls/s.pem"));
      expect(config.server.keyFile).toBe(path.join(cwd, "certs/server.key"));
    } finally {
      fs.rmSync(path.join(exeDir, "config.yaml"), { force: true });
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("reports a missing --config file and bad YAML", () => {
    expect(errorOf({ ...base, file: path.join(dir, "nope.yaml") })).toMatch(/cannot read: ENOENT/);
    const file = write("broken.yaml", "server: [\n");
    expect(errorOf({ ...base, file })).toMatch(/not valid YAML/);
  });
});

describe("config.example.yaml", () => {
  const example = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../config.example.yaml");

  it("is valid and equals the defaults", () => {
    const fromExample = loadEtserverConfig({ ...base, file: example });
    const defaults = loadEtserverConfig(base);
    const { file: _a, server: s1, ...rest1 } = fromExample;
    const { file: _b, server: s2, ...rest2 } = defaults;
    expect(rest1).toEqual(rest2);
    expect({ ...s1, certFile: "", keyFile: "", caFile: "" }).toEqual({ ...s2, certFile: "", keyFile: "", caFile: "" });
  });

  it("documents every key of the schema", async () => {
    const { parse } = await import("yaml");
    const doc = parse(fs.readFileSync(example, "utf8")) as Record<string, unknown>;
    const keys = (value: unknown, prefix: string): string[] =>
      typeof value === "object" && value !== null ? Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keys(v, `${prefix}${k}.`)]) : [];
    const defaults = loadEtserverConfig(base) as Record<string, unknown>;
    delete defaults["file"];
    expect(keys(doc, "").sort()).toEqual(keys(defaults, "").sort());
  });
});
