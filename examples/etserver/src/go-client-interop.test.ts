import { once } from "node:events";
import { readFileSync } from "node:fs";
import { Code } from "@dora/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInProcess, testConfig, type InProcessServer } from "./test-helpers/etserver.js";
import { frameHeader, GO_MAX_FRAME_BYTES, GoDoraV2Client, type GoCallResult } from "./test-helpers/go-dora-v2.js";
import { decodeFields, decodeStatusAndString, encodeStrings } from "./test-helpers/raw-dora-v2.js";

// The original Go dora v2 etclient's exact requests, replayed byte for byte
// against etserver (SPEC §3, §6): bare method names, no metadata on Login and
// `username` + `token` on reads and writes, a 2000-byte key and value (its
// helper.NewString), header and payload written separately, stream ids and
// seqs from process-wide counters, and its keepalive PINGs on stream 0.

const KEY = "c".repeat(2000);
const VALUE = "a".repeat(2000);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: InProcessServer;
const clients: GoDoraV2Client[] = [];

beforeAll(async () => {
  server = await startInProcess(testConfig());
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function connect(): Promise<GoDoraV2Client> {
  const client = await GoDoraV2Client.connect(server.address);
  clients.push(client);
  return client;
}

/** What the Go client checks on every answer: same stream, seq and method, a frame it can read, and no error status. */
function expectOk(result: GoCallResult, method: string): void {
  expect(result.stream).toBe(result.sent.stream);
  expect(result.seq).toBe(result.sent.seq);
  expect(result.method).toBe(method);
  expect(result.serializeType).toBe("proto");
  expect(result.frame.length - 10).toBeLessThanOrEqual(GO_MAX_FRAME_BYTES);
  expect(result.meta["dora-status"] ?? "0").toBe("0");
}

async function login(client: GoDoraV2Client, user: string): Promise<string> {
  const result = await client.call("Login", undefined, encodeStrings({ 1: user, 2: user }));
  expectOk(result, "Login");
  const { code, text } = decodeStatusAndString(result.payload);
  expect(code).toBe(0);
  expect(text).toMatch(UUID);
  return text;
}

const write = (client: GoDoraV2Client, meta: Record<string, string>, key: string, value: string) => client.call("WriteSecureMessage", meta, encodeStrings({ 1: key, 2: value }));
const read = (client: GoDoraV2Client, meta: Record<string, string>, key: string) => client.call("ReadSecureMessage", meta, encodeStrings({ 1: key }));

describe("the original Go dora v2 etclient against etserver", () => {
  it("logs in, writes and reads a 2000-byte key and value, and reads a missing key, over two pooled connections", async () => {
    const first = await connect();
    const token = await login(first, "100000");
    const meta = { username: "100000", token };

    const written = await write(first, meta, KEY, VALUE);
    expectOk(written, "WriteSecureMessage");
    const echoed = decodeFields(written.payload).map((f) => Buffer.from(f.value as Uint8Array).toString());
    expect(echoed).toEqual([KEY, VALUE]);

    // The Go pool takes another connection for a concurrent call; its stream ids continue the process-wide counter.
    const second = await connect();
    const [again, missing] = await Promise.all([read(second, meta, KEY), read(first, meta, "z".repeat(2000))]);
    expectOk(again, "ReadSecureMessage");
    expect(again.sent.stream).toBeGreaterThan(written.sent.stream);
    expect(decodeStatusAndString(again.payload)).toMatchObject({ code: 0, text: VALUE });
    expectOk(missing, "ReadSecureMessage");
    expect(decodeStatusAndString(missing.payload)).toMatchObject({ code: 1001, text: "" });

    const wrong = await first.call("Login", undefined, encodeStrings({ 1: "100000", 2: "nope" }));
    expectOk(wrong, "Login");
    expect(decodeStatusAndString(wrong.payload)).toMatchObject({ code: 1000, text: "" });
  });

  it("answers framework errors in dora-status and dora-message, as the Go client reads them", async () => {
    const client = await connect();
    const token = await login(client, "100001");
    const badToken = await read(client, { username: "100001", token: "0".repeat(36) }, KEY);
    expect(badToken.meta["dora-status"]).toBe(String(Code.Unauthenticated));
    expect(badToken.meta["dora-message"]).not.toBe("");
    expect(badToken.payload).toHaveLength(0);
    expect((await read(client, { username: "100001", token: "" }, KEY)).meta["dora-status"]).toBe(String(Code.Unauthenticated));
    expect((await read(client, { token }, KEY)).meta["dora-status"]).toBe(String(Code.BadRequest));
    const unknown = await client.call("DeleteSecureMessage", { username: "100001", token }, encodeStrings({ 1: KEY }));
    expect(unknown.meta["dora-status"]).toBe(String(Code.Unimplemented));
    expect(unknown.method).toBe("DeleteSecureMessage");

    // docs/protocol.md shows the `dora-status` entry of such an answer byte by byte.
    const doc = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
    const shown = /`(2a [0-9a-f ]+)` \(`dora-status` = `"6"`\)/.exec(doc)?.[1] ?? "";
    expect(shown).toMatch(/^2a /);
    expect(badToken.frame.includes(Buffer.from(shown.replace(/ /g, ""), "hex"))).toBe(true);
  });

  it("keeps every frame within dora v2's 64 KiB for the 2000-byte key with the largest value (60 KiB)", async () => {
    const client = await connect();
    const token = await login(client, "100002");
    const meta = { username: "100002", token };
    const largest = "v".repeat(61_440);
    const written = await write(client, meta, KEY, largest);
    expectOk(written, "WriteSecureMessage");
    expect(written.sent.frame.length - 10).toBeLessThanOrEqual(GO_MAX_FRAME_BYTES);
    const back = await read(client, meta, KEY);
    expectOk(back, "ReadSecureMessage");
    expect(decodeStatusAndString(back.payload).text).toBe(largest);
    const over = await write(client, meta, KEY, `${largest}v`);
    expect(over.meta["dora-status"]).toBe(String(Code.BadRequest));
    expect(over.meta["dora-message"]).toBe("value is 61441 bytes, more than 61440");
    expect(client.closed).toBe(false);
  });

  it("keeps an idle connection alive on the Go client's heartbeat: its PING on stream 0 after 5 s is answered, and calls go on", async () => {
    const client = await connect();
    const token = await login(client, "100003");
    // Nothing else is sent: the Go client's keepalive fires once it has read nothing for 5 s.
    await once(client, "sent-ping");
    const [ack] = (await once(client, "ack")) as [{ bytes: Buffer }];
    expect(ack.bytes).toEqual(frameHeader(0, 0, 1, 1));
    expect(client.closed).toBe(false);
    // etserver may have pinged too; the Go client answered on stream 0, and the connection is still good.
    const after = await read(client, { username: "100003", token }, KEY);
    expectOk(after, "ReadSecureMessage");
  });

  it("serves the original benchmark's workload: 12 connections reading the 2000-byte key at once", async () => {
    const writer = await connect();
    const token = await login(writer, "100000");
    const meta = { username: "100000", token };
    expectOk(await write(writer, meta, KEY, VALUE), "WriteSecureMessage");
    const workers = await Promise.all(Array.from({ length: 12 }, () => connect()));
    const results = await Promise.all(
      workers.map(async (worker) => {
        const texts: string[] = [];
        for (let i = 0; i < 20; i++) {
          const result = await read(worker, meta, KEY);
          expectOk(result, "ReadSecureMessage");
          texts.push(decodeStatusAndString(result.payload).text);
        }
        return texts;
      }),
    );
    expect(results.flat()).toEqual(Array.from({ length: 240 }, () => VALUE));
  });
});
