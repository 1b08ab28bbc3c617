import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@dora/runtime";
import { createKvServiceClient } from "@dora/tiger/kv/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDevCerts } from "./test-helpers/dev-certs.js";
import { freePort } from "../../etserver/src/test-helpers/processes.js";
import { runEtclient, startEtserver, type RunResult, type RunningServer } from "./test-helpers/processes.js";

// The real bin (built dist) against a real etserver with the memory store,
// whose synthetic users 1..N have password = username (SPEC §6).

const GO_DURATION = /^(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|ms|s)$/;
const STACK_FRAME = /^\s+at /m;

let server: RunningServer;
let cwd: string;

beforeAll(async () => {
  server = await startEtserver();
  // An empty working directory, so no config.yaml there is picked up.
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-e2e-"));
});
afterAll(async () => {
  await server?.stop();
  if (cwd !== undefined) fs.rmSync(cwd, { recursive: true, force: true });
});

const etclient = (...args: string[]): Promise<RunResult> => runEtclient([...args, "--address", server.address], { cwd });

function expectOneFailureLine(result: RunResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toMatch(STACK_FRAME);
}

// The transcripts of docs/etclient.md (login, read and write with and without
// a login, composed commands, a wrong password, usage errors, no server) are
// run by docs.test.ts; these are the cases the page does not show.
describe("etclient commands", () => {
  it("writes the letter repeated 2000 times, as the original etclient, and shows the letter", async () => {
    const result = await etclient("login,write", "-u", "105", "-p", "105", "-k", "q", "-v", "r");
    expect(result).toMatchObject({ code: 0, stdout: "login ok user=105\nwrite q = r\n" });
    const client = createClient({ address: server.address });
    try {
      const kv = createKvServiceClient(client);
      const { token } = await kv.login({ username: "105", password: "105" });
      const stored = await kv.readSecureMessage({ key: "q".repeat(2000) }, { meta: { username: "105", token } });
      expect(stored.value).toBe("r".repeat(2000));
      // Data a 2000-byte client wrote is what etclient reads back, shown as its letter.
      await kv.writeSecureMessage({ key: "s".repeat(2000), value: "t".repeat(2000) }, { meta: { username: "105", token } });
    } finally {
      await client.close();
    }
    expect((await etclient("login,read", "-u", "105", "-p", "105", "-k", "s")).stdout).toBe("login ok user=105\nread s = t\n");
    expect((await etclient("login,read", "-u", "105", "-p", "105", "-k", "s", "--size", "10")).stdout).toBe("login ok user=105\nread s: key does not exist\n");
  });

  it("stops at the first failure of a composed command", async () => {
    const result = await etclient("read,login", "-u", "103", "-p", "103");
    expectOneFailureLine(result, /^read failed: Unauthenticated\b/);
  });

  it("sends bare method names when asked (etserver resolves them)", async () => {
    const result = await etclient("login,read", "-u", "104", "-p", "104", "--bare-method-names");
    expect(result).toMatchObject({ code: 0, stdout: "login ok user=104\nread a: key does not exist\n" });
  });
});

describe("etclient benchmark", () => {
  it("benchmark read -c 12 -r 200 prints the full report", async () => {
    const result = await etclient("benchmark", "read", "-u", "100000", "-p", "100000", "-k", "c", "-c", "12", "-r", "200");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const [heading, ...rest] = result.stdout.split("\n");
    expect(heading).toBe("Benchmark Report:");
    const parsed: unknown = JSON.parse(rest.join("\n"));
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed).toHaveLength(1);
    const report = (parsed as Record<string, unknown>[])[0] ?? {};
    expect(Object.keys(report)).toEqual([
      "Concurrency", "requests", "Success", "Failure", "QPS", "MaxRT", "MinRT", "AvgRT", "Duration",
      "LatencySummary", "username", "method", "key", "value",
    ]);
    expect(report).toMatchObject({ Concurrency: 12, requests: 200, Success: 2400, Failure: 0, username: "100000", method: "read", key: "c", value: "a" });
    expect(report["QPS"]).toBeGreaterThan(0);
    for (const field of ["MaxRT", "MinRT", "AvgRT", "Duration"]) expect(report[field]).toMatch(GO_DURATION);
    const latencies = (report["LatencySummary"] as { Latencies: string[] }).Latencies;
    expect(latencies).toHaveLength(8);
    const percents = ["50", "60", "70", "80", "90", "95", "99", "100"];
    latencies.forEach((line, i) => {
      const match = /^( \d\d|100)% : (\S+) \(cumulative count (\d+)\)$/.exec(line);
      expect(match, line).not.toBeNull();
      expect(match?.[1]?.trim()).toBe(percents[i]);
      expect(match?.[2]).toMatch(GO_DURATION);
      expect(Number(match?.[3])).toBe(Math.ceil((Number(percents[i]) * 2400) / 100));
    });
    expect(latencies[7]).toContain(`: ${String(report["MaxRT"])} (`);
  });

  it("benchmark write writes the value (a later read sees it)", async () => {
    const result = await etclient("benchmark", "write", "-u", "100001", "-p", "100001", "-k", "d", "-v", "x", "-c", "4", "-r", "50");
    expect(result.code, result.stderr).toBe(0);
    const report = (JSON.parse(result.stdout.slice(result.stdout.indexOf("\n") + 1)) as Record<string, unknown>[])[0];
    expect(report).toMatchObject({ Concurrency: 4, requests: 50, Success: 200, Failure: 0, method: "write", key: "d", value: "x" });
    const read = await etclient("login,read", "-u", "100001", "-p", "100001", "-k", "d");
    expect(read.stdout).toBe("login ok user=100001\nread d = x\n");
  });

  it("--json prints only the report object on one line", async () => {
    const result = await etclient("benchmark", "read", "-u", "100002", "-p", "100002", "-c", "2", "-r", "10", "--json");
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ Concurrency: 2, requests: 10, Success: 20, Failure: 0, method: "read", key: "a" });
  });

  it("--duration runs for that long instead of a request count", async () => {
    const result = await etclient("benchmark", "read", "-u", "100003", "-p", "100003", "-c", "2", "--duration", "0.5", "--json");
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { Success: number; Failure: number; requests: number; Duration: string };
    // Every worker makes at least one call before it looks at the clock; how many more depends on the machine.
    expect(report.Success + report.Failure).toBeGreaterThanOrEqual(2);
    expect(report.requests).toBe(Math.round((report.Success + report.Failure) / 2));
    expect(report.Duration).toMatch(/^(5\d\d(\.\d+)?ms|\d+(\.\d+)?s)$/);
  });

  it("non-numeric --user: every worker logs in as its own fleet user", async () => {
    const result = await etclient("benchmark", "read", "-u", "bench", "-c", "3", "-r", "5", "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ username: "100001..100003", Success: 15, Failure: 0 });
  });

  it("stops before measuring when the login fails", async () => {
    const result = await etclient("benchmark", "read", "-u", "100000", "-p", "wrong", "-c", "2", "-r", "5");
    expectOneFailureLine(result, /^benchmark failed: login as 100000 failed: incorrect username or password\n$/);
  });
});

describe("etclient usage errors", () => {
  it.each([
    [["login", "--bogus"], "bogus"],
    [["login,benchmark"], "benchmark cannot be composed"],
  ])("%j exits with 2 and names %s", async (args, named) => {
    const result = await etclient(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(named);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it.each([
    [["--help"], "Usage: etclient COMMAND[,COMMAND...] [options]"],
    [["login", "--help"], "--password"],
    [["benchmark", "--help"], "etclient benchmark read"],
    [["benchmark", "read", "--help"], "--concurrency"],
  ])("%j prints help and exits with 0", async (args, shown) => {
    const result = await runEtclient(args, { cwd });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(shown);
  });
});

describe("etclient without a server", () => {
  it("reports Unavailable on one line and exits instead of hanging, without a stack trace", async () => {
    const port = await freePort();
    // A process still running after 20 s is killed, and its exit code is then null, not 1.
    const result = await runEtclient(["login", "-u", "100", "-p", "100", "--address", `127.0.0.1:${port}`, "--timeout-ms", "2000"], { cwd, killAfterMs: 20_000 });
    expectOneFailureLine(result, /^login failed: Unavailable: .+\n$/);
  });

  it("takes the address from ETCLIENT_ADDRESS, and a flag wins over it", async () => {
    const port = await freePort();
    const viaEnv = await runEtclient(["login", "-u", "100", "-p", "100"], { cwd, env: { ETCLIENT_ADDRESS: server.address } });
    expect(viaEnv.stdout).toBe("login ok user=100\n");
    const flagWins = await runEtclient(["login", "-u", "100", "-p", "100", "--address", `127.0.0.1:${port}`], { cwd, env: { ETCLIENT_ADDRESS: server.address } });
    expectOneFailureLine(flagWins, /^login failed: Unavailable/);
  });

  it("reads config.yaml from the working directory and reports a bad one on one line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-cfg-"));
    try {
      fs.writeFileSync(path.join(dir, "config.yaml"), `server:\n  address: ${server.address}\n  maxActiveConn: 2\nlog: { level: error }\n`);
      expect((await runEtclient(["login", "-u", "100", "-p", "100"], { cwd: dir })).stdout).toBe("login ok user=100\n");
      fs.writeFileSync(path.join(dir, "config.yaml"), "server:\n  maxActiveConn: zero\n");
      const bad = await runEtclient(["login"], { cwd: dir });
      expectOneFailureLine(bad, /^etclient: config .*config\.yaml: server\.maxActiveConn: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("etclient over mutual TLS", () => {
  let tlsServer: RunningServer;
  let dir: string;
  let certs: ReturnType<typeof makeDevCerts>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-tls-"));
    certs = makeDevCerts(dir);
    tlsServer = await startEtserver(["--tls", "--cert-file", certs.serverCert, "--key-file", certs.serverKey, "--ca-file", certs.ca]);
  });
  afterAll(async () => {
    await tlsServer?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs commands with --tls and a client certificate", async () => {
    const tlsArgs = ["--tls", "--ca-file", certs.ca, "--cert-file", certs.clientCert, "--key-file", certs.clientKey];
    const result = await runEtclient(["login,write,read", "-u", "200", "-p", "200", "-k", "t", "-v", "s", "--address", tlsServer.address, ...tlsArgs], { cwd });
    expect(result).toMatchObject({ code: 0, stdout: "login ok user=200\nwrite t = s\nread t = s\n", stderr: "" });
  });

  it("takes the TLS settings from config.yaml", async () => {
    const config = path.join(dir, "tls.yaml");
    fs.writeFileSync(config, `server:\n  address: ${tlsServer.address}\n  enableTls: true\n  caFile: ca.pem\n  certFile: client.pem\n  keyFile: client.key\n`);
    const result = await runEtclient(["login", "-u", "201", "-p", "201", "--config", config], { cwd });
    expect(result).toMatchObject({ code: 0, stdout: "login ok user=201\n" });
  });

  it("fails with Unavailable on one line when the server rejects a client without a certificate", async () => {
    const result = await runEtclient(["login", "-u", "200", "-p", "200", "--address", tlsServer.address, "--tls", "--ca-file", certs.ca, "--timeout-ms", "3000"], { cwd });
    expectOneFailureLine(result, /^login failed: Unavailable: .+\n$/);
  });

  it("fails with Unavailable when the server certificate is not trusted", async () => {
    const result = await runEtclient(["login", "-u", "200", "-p", "200", "--address", tlsServer.address, "--tls", "--cert-file", certs.clientCert, "--key-file", certs.clientKey, "--timeout-ms", "3000"], { cwd });
    expectOneFailureLine(result, /^login failed: Unavailable: .+\n$/);
  });

  it.each([
    ["swapped certificate and key files", ["--cert-file", "client.key", "--key-file", "client.pem"], /^etclient: TLS certificate file: \S+client\.key is not a PEM certificate \(it holds a private key: are --cert-file and --key-file swapped\?\)\n$/],
    ["a key that is not the certificate's", ["--cert-file", "client.pem", "--key-file", "server.key"], /^etclient: TLS key file: \S+server\.key does not belong to the certificate in \S+client\.pem\n$/],
    ["a CA file that is a key", ["--ca-file", "ca.key"], /^etclient: TLS CA file: \S+ca\.key is not a PEM certificate \(it holds a private key\)\n$/],
  ])("names the file for %s", async (_what, flags, message) => {
    const args = flags.map((f) => (f.startsWith("--") ? f : path.join(dir, f)));
    const result = await runEtclient(["login", "--address", tlsServer.address, "--tls", ...args], { cwd });
    expectOneFailureLine(result, message);
  });

  it("names a TLS file it cannot read", async () => {
    const result = await runEtclient(["login", "--address", tlsServer.address, "--tls", "--ca-file", path.join(dir, "absent.pem")], { cwd });
    expectOneFailureLine(result, /^etclient: TLS CA file: cannot read .*absent\.pem: ENOENT\n$/);
  });
});
