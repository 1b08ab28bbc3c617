import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GO_MAX_FRAME_BYTES, GoDoraV2KvServer } from "../../etserver/src/test-helpers/go-dora-v2.js";
import { decodeFields } from "../../etserver/src/test-helpers/raw-dora-v2.js";
import { runEtclient, type RunResult } from "./test-helpers/processes.js";

// etclient --bare-method-names against a peer that answers as the original Go
// dora v2 server does (SPEC §3): bare method names only, frames capped at
// 64 KiB, every request metadata entry echoed in the answer, and a
// `dora-message` on every answer, success included.

let peer: GoDoraV2KvServer;
let cwd: string;

beforeAll(async () => {
  peer = await GoDoraV2KvServer.start();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-go-"));
});
afterAll(async () => {
  await peer?.close();
  if (cwd !== undefined) fs.rmSync(cwd, { recursive: true, force: true });
});

const etclient = (...args: string[]): Promise<RunResult> => runEtclient([...args, "--address", peer.address, "--bare-method-names"], { cwd });

/** The string fields of a request payload, by field number. */
function fieldsOf(payload: Uint8Array): Record<number, string> {
  return Object.fromEntries(decodeFields(payload).map((f) => [f.number, Buffer.from(f.value as Uint8Array).toString()]));
}

describe("etclient --bare-method-names against a dora v2 Go server", () => {
  it("logs in, writes and reads back in one session, sending 2000-byte keys and values under bare names", async () => {
    const from = peer.requests.length;
    const result = await etclient("login,write,read", "-u", "100", "-p", "100", "-k", "b", "-v", "n");
    expect(result).toMatchObject({ code: 0, stdout: "login ok user=100\nwrite b = n\nread b = n\n", stderr: "" });
    const seen = peer.requests.slice(from);
    expect(seen.map((r) => r.method)).toEqual(["Login", "WriteSecureMessage", "ReadSecureMessage"]);
    expect(fieldsOf(seen[1]?.payload ?? new Uint8Array())).toEqual({ 1: "b".repeat(2000), 2: "n".repeat(2000) });
    expect(fieldsOf(seen[2]?.payload ?? new Uint8Array())).toEqual({ 1: "b".repeat(2000) });
    expect(seen[2]?.meta).toMatchObject({ username: "100" });
    expect(seen.every((r) => r.length <= GO_MAX_FRAME_BYTES)).toBe(true);
  });

  it("reports a missing key, a wrong password and a call without a login as etserver's answers", async () => {
    expect(await etclient("login,read", "-u", "101", "-p", "101", "-k", "z")).toMatchObject({ code: 0, stdout: "login ok user=101\nread z: key does not exist\n" });
    expect(await etclient("login", "-u", "101", "-p", "wrong")).toMatchObject({ code: 1, stdout: "", stderr: "login failed: incorrect username or password\n" });
    expect(await etclient("read", "-u", "101", "-p", "101")).toMatchObject({ code: 1, stdout: "", stderr: "read failed: Unauthenticated: invalid token\n" });
  });

  it("runs a short benchmark read and write: every call succeeds", async () => {
    const write = await etclient("benchmark", "write", "-u", "100000", "-p", "100000", "-k", "c", "-v", "x", "-c", "4", "-r", "25", "--json");
    expect(write.code, write.stderr).toBe(0);
    expect(JSON.parse(write.stdout)).toMatchObject({ Concurrency: 4, requests: 25, Success: 100, Failure: 0, method: "write", key: "c", value: "x" });
    const read = await etclient("benchmark", "read", "-u", "100000", "-p", "100000", "-k", "c", "-c", "12", "-r", "20", "--json");
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ Concurrency: 12, requests: 20, Success: 240, Failure: 0, method: "read", key: "c" });
    expect(peer.oversize).toEqual([]);
  });

  it("fails a request above 64 KiB alone (OutOfRange) instead of sending what the Go server would drop the connection for", async () => {
    const result = await etclient("login,write", "-u", "102", "-p", "102", "-k", "d", "-v", "e", "--size", "40000");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("login ok user=102\n");
    expect(result.stderr).toMatch(/^write failed: OutOfRange: request of \d+ bytes exceeds the maximum frame size of 65536 bytes\n$/);
    expect(peer.oversize).toEqual([]);
  });

  it("without --bare-method-names says the server does not know the method, and suggests the flag", async () => {
    const result = await runEtclient(["login", "-u", "100", "-p", "100", "--address", peer.address], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("login failed: Unimplemented: method '/kv.v1.KvService/Login' is unimplemented (a dora v2 Go server? add --bare-method-names)\n");
  });
});
