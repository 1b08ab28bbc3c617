/**
 * What a hostile or broken peer can make a server hold or send (SPEC §4,
 * "limits that keep a hostile peer cheap"), driven over real sockets.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createClient } from "./client.js";
import { Code } from "./code.js";
import { protoCodec } from "./codec.js";
import type { Interceptor } from "./interceptor.js";
import type { Logger } from "./logger.js";
import { MAX_TIMEOUT_MS } from "./options.js";
import { FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING, pingFrame, writeFrameHeader } from "./protocol/frame.js";
import { decodePkg, encodePkgFrame } from "./protocol/pkg.js";
import type { DoraServer } from "./server.js";
import type { ServerOptions } from "./server-options.js";
import { EchoRequestSchema, EchoService, method } from "./test-helpers/echo-service.js";
import { RawPeer, startEchoServer, within, type EchoServer } from "./test-helpers/harness.js";
import { issuePki, type Pki } from "./test-helpers/pki.js";
import { Down } from "./test-helpers/stream-service.js";

const ECHO = "/dora.test.v1.EchoService/Echo";
const Echo = method(EchoService, "Echo");
/** Bound on waiting for an outcome that must come; never reached when the server behaves. */
const OUTCOME_MS = 15_000;

const servers: EchoServer[] = [];
const peers: RawPeer[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const p of peers.splice(0)) p.destroy();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});

async function serve(options: ServerOptions = {}): Promise<EchoServer> {
  const s = await startEchoServer(options);
  servers.push(s);
  return s;
}

async function peer(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  peers.push(p);
  return p;
}

/** A frame header alone. */
function header(length: number, streamId: number, type: number): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, length, streamId, type, 0);
  return buf;
}

/** A plain TCP socket from `localAddress`; resolves once connected, and `closed` once the server has closed it. */
function connectFrom(port: number, localAddress = "127.0.0.1"): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    sockets.push(socket);
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

/** True once `socket` answered a PING: the server has accepted it and serves it. */
async function served(socket: net.Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const onData = (): void => {
      socket.off("close", onClose);
      resolve(true);
    };
    const onClose = (): void => {
      socket.off("data", onData);
      resolve(false);
    };
    socket.once("data", onData);
    socket.once("close", onClose);
    socket.write(pingFrame(1, false));
  });
}

/** A logger that records warn lines. */
function warnings(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const none = (): void => {};
  return { lines, logger: { debug: none, info: none, warn: (msg) => lines.push(msg), error: none } };
}

describe("deadlines a peer sends (dora-timeout)", () => {
  it("clamps a dora-timeout above 2^31−1 ms to MAX_TIMEOUT_MS: the handler's deadline is at most that far, and the call is answered", async () => {
    const seen: Array<{ deadline: number; now: number }> = [];
    const capture: Interceptor = (next) => async (req) => {
      seen.push({ deadline: req.deadline!, now: Date.now() });
      return next(req);
    };
    const { port } = await serve({ interceptors: [capture] });
    const p = await peer(port);
    const sentAt = Date.now();
    p.call(1, ECHO, { text: "far" }, { "dora-timeout": "999999999999999" });
    const answer = await p.answer(1);
    expect(answer).toMatchObject({ code: Code.Ok, text: "far" });
    expect(seen).toHaveLength(1);
    // The server set the deadline MAX_TIMEOUT_MS after it read the request: between the send and the interceptor.
    expect(seen[0]!.deadline).toBeGreaterThanOrEqual(sentAt + MAX_TIMEOUT_MS);
    expect(seen[0]!.deadline).toBeLessThanOrEqual(seen[0]!.now + MAX_TIMEOUT_MS);
  });

  it("a client call with a timeout of 10^15 ms sends dora-timeout 2147483647 (MAX_TIMEOUT_MS) and is answered, not refused as BadRequest", async () => {
    const sent: string[] = [];
    const capture: Interceptor = (next) => async (req) => {
      sent.push(String(req.deadline! - Date.now()));
      return next(req);
    };
    const { address } = await serve({ interceptors: [capture] });
    const client = createClient({ address, poolSize: 1 });
    try {
      expect(await client.unary(Echo, { text: "far" }, { timeoutMs: 1e15 })).toMatchObject({ text: "far" });
    } finally {
      await client.close();
    }
    expect(Number(sent[0])).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
  });

  it("a call whose timeoutMs is not a number fails BadRequest naming the option, and nothing reaches the server; a negative one is DeadlineExceeded", async () => {
    let ran = 0;
    const count: Interceptor = (next) => async (req) => {
      ran++;
      return next(req);
    };
    const { address } = await serve({ interceptors: [count] });
    const client = createClient({ address, poolSize: 1 });
    try {
      for (const bad of ["5000", Number.NaN, null]) {
        const error = await client.unary(Echo, { text: "x" }, { timeoutMs: bad as unknown as number }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: Code.BadRequest, rawMessage: expect.stringMatching(/^call option timeoutMs must be a number of milliseconds, got /) });
        const streamError = await (async () => {
          for await (const _ of client.serverStream(Down, {}, { timeoutMs: bad as unknown as number })) break;
        })().catch((e: unknown) => e);
        expect(streamError).toMatchObject({ code: Code.BadRequest, rawMessage: expect.stringMatching(/^call option timeoutMs must be/) });
      }
      await expect(client.unary(Echo, { text: "x" }, { timeoutMs: -5 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
      expect(await client.unary(Echo, { text: "still fine" }, { timeoutMs: Number.POSITIVE_INFINITY })).toMatchObject({ text: "still fine" });
    } finally {
      await client.close();
    }
    expect(ran).toBe(1);
  });

  it("answers dora-timeout 0 with DeadlineExceeded at once, without running interceptors or the handler", async () => {
    let ran = 0;
    const count: Interceptor = (next) => async (req) => {
      ran++;
      return next(req);
    };
    const { port } = await serve({ interceptors: [count] });
    const p = await peer(port);
    p.call(1, ECHO, { text: "now" }, { "dora-timeout": "0" });
    expect(await p.answer(1)).toMatchObject({ code: Code.DeadlineExceeded, message: "deadline exceeded" });
    // A later call on the same connection runs: the interceptor count is the proof the first never did.
    p.call(2, ECHO, { text: "later" });
    expect(await p.answer(2)).toMatchObject({ code: Code.Ok, text: "later" });
    expect(ran).toBe(1);
  });
});

describe("frames the server sends", () => {
  it("never sends a frame above maxFrameBytes: an unknown method of 60,000 characters is answered Unimplemented with the name cut to 100 characters", async () => {
    const maxFrameBytes = 64 * 1024;
    const { port } = await serve({ maxFrameBytes });
    const p = await peer(port);
    const method = `/x.Y/${"m".repeat(60_000)}`;
    p.call(1, method, {});
    const frame = await p.next((f) => f.type === FRAME_DATA && f.streamId === 1);
    expect(frame.payload.length).toBeLessThanOrEqual(maxFrameBytes);
    const head = decodePkg(frame.payload).head!;
    expect(head.meta?.["dora-status"]).toBe(String(Code.Unimplemented));
    expect(head.meta?.["dora-message"]).toBe(`unknown method ${JSON.stringify(method.slice(0, 100))}… (${method.length} characters)`);
  });

  it("answers a request that fills its frame with the status alone when echoing its head would exceed maxFrameBytes", async () => {
    const maxFrameBytes = 64 * 1024;
    const { port } = await serve({ maxFrameBytes });
    const p = await peer(port);
    const payload = protoCodec.encode(EchoRequestSchema, {} as never);
    // A method name that makes the request exactly maxFrameBytes long.
    const encode = (n: number) => encodePkgFrame(1, { version: 0, serializeType: "proto", seq: 1, method: "/" + "n".repeat(n) }, undefined, undefined, payload);
    let n = maxFrameBytes;
    while (encode(n).length - FRAME_HEADER_BYTES > maxFrameBytes) n--;
    const request = encode(n);
    expect(request.length - FRAME_HEADER_BYTES).toBe(maxFrameBytes);
    p.write(request);
    const frame = await p.next((f) => f.type === FRAME_DATA && f.streamId === 1);
    expect(frame.payload.length).toBeLessThanOrEqual(maxFrameBytes);
    const head = decodePkg(frame.payload).head!;
    expect(head).toMatchObject({ seq: 1, method: "" });
    expect(head.meta?.["dora-status"]).toBe(String(Code.Unimplemented));
  });

  it("echoes seq exactly for every uint64: 7 as a number, 2^53+1 and 2^64−1 as bigints", async () => {
    const { port } = await serve();
    const p = await peer(port);
    const seqs = [7, 2n ** 53n + 1n, 2n ** 64n - 1n];
    seqs.forEach((seq, i) => p.write(encodePkgFrame(i + 1, { version: 0, serializeType: "proto", seq, method: ECHO }, undefined, undefined, protoCodec.encode(EchoRequestSchema, { text: "s" } as never))));
    for (let i = 0; i < seqs.length; i++) {
      const answer = await p.answer(i + 1);
      expect(answer.code).toBe(Code.Ok);
      expect(answer.head.seq).toBe(seqs[i]);
    }
  });
});

describe("liveness and started frames", () => {
  it("closes a peer that declares a 4 MiB frame and drips it, when the frame is not complete within frameTimeoutMs", async () => {
    const { port } = await serve({ frameTimeoutMs: 300, keepaliveTimeMs: 600_000 });
    const p = await peer(port);
    p.write(header(4 * 1024 * 1024, 1, FRAME_DATA));
    const drip = setInterval(() => p.write(Buffer.from([0])), 20);
    try {
      expect(await within(p.closed, OUTCOME_MS)).toBe(true);
    } finally {
      clearInterval(drip);
    }
  });

  it("counts whole frames as life, not bytes: a peer that only drips bytes of a frame is closed by keepalive", async () => {
    const { port } = await serve({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 200, frameTimeoutMs: 600_000 });
    const p = await peer(port);
    p.write(header(1024, 1, FRAME_DATA));
    const drip = setInterval(() => p.write(Buffer.from([0])), 20);
    try {
      expect(await within(p.closed, OUTCOME_MS)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(p.frames.some((f) => f.type === FRAME_PING && f.flags === 0)).toBe(true);
  });

  it("serves a frame split over many writes that completes within frameTimeoutMs, and each later frame gets its own time", async () => {
    const { port } = await serve({ frameTimeoutMs: 60_000 });
    const p = await peer(port);
    for (let id = 1; id <= 3; id++) {
      const frame = encodePkgFrame(id, { version: 0, serializeType: "proto", seq: id, method: ECHO }, undefined, undefined, protoCodec.encode(EchoRequestSchema, { text: `t${id}` } as never));
      for (let i = 0; i < frame.length; i += 3) p.write(frame.subarray(i, i + 3));
      expect(await p.answer(id)).toMatchObject({ code: Code.Ok, text: `t${id}` });
    }
    expect(p.isClosed).toBe(false);
  });
});

describe("PING floods", () => {
  it("stops reading a peer that floods PINGs and never reads the ACKs: the server's write buffer stays bounded", async () => {
    const echo = await serve();
    const p = await peer(echo.port);
    p.socket.pause(); // never read the ACKs
    const connections = (echo.server as DoraServer)["sockets"] as Set<net.Socket>;
    const serverSocket = [...connections][0]!;
    const paused = new Promise<void>((r) => serverSocket.once("pause", () => r()));
    // 1,600,000 PINGs (16 MB) in 1 MB writes; the kernel and the server's reads take what they will.
    const batch = Buffer.concat(Array.from({ length: 100_000 }, (_, i) => pingFrame(i, false)));
    for (let i = 0; i < 16; i++) p.socket.write(batch);
    expect(await within(paused, OUTCOME_MS)).toBe(true);
    // Paused for good: the peer reads nothing, so the write buffer never drains. What it holds is
    // bounded by the high-water mark plus the ACKs of one read (a read is at most 64 KiB of PINGs).
    expect(serverSocket.isPaused()).toBe(true);
    expect(serverSocket.writableLength).toBeLessThan(serverSocket.writableHighWaterMark + 64 * 1024 + 1);
    expect(p.socket.writableLength).toBeGreaterThan(0);
  });
});

describe("TLS handshakes", () => {
  let dir: string;
  let pki: Pki;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-hostile-"));
    pki = issuePki(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("destroys a peer that opens TCP and never starts its TLS handshake, after handshakeTimeoutMs", async () => {
    const { port } = await serve({ tls: { cert: pki.serverCert, key: pki.serverKey }, handshakeTimeoutMs: 200 });
    const silent = await connectFrom(port);
    expect(await within(silent.closed, OUTCOME_MS)).toBe(true);
  });

  it("destroys a peer that drips its handshake a byte at a time: the timeout counts from the connection, not from the last byte", async () => {
    const { port } = await serve({ tls: { cert: pki.serverCert, key: pki.serverKey }, handshakeTimeoutMs: 300 });
    const dripping = await connectFrom(port);
    // The first bytes of a TLS 1.2 ClientHello record header, then filler, one byte at a time.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...new Array<number>(200).fill(0)]);
    let i = 0;
    const drip = setInterval(() => {
      if (i < hello.length) dripping.socket.write(hello.subarray(i, ++i));
    }, 20);
    try {
      expect(await within(dripping.closed, OUTCOME_MS)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(i).toBeLessThan(hello.length);
  });
});

describe("connection caps", () => {
  it("refuses connections beyond maxConnections at once; the open ones keep being served, and a closed one frees its place", async () => {
    const { port } = await serve({ maxConnections: 5 });
    const open = [];
    for (let i = 0; i < 5; i++) {
      const c = await connectFrom(port);
      expect(await served(c.socket)).toBe(true);
      open.push(c);
    }
    const refused = await connectFrom(port);
    expect(await within(refused.closed, OUTCOME_MS)).toBe(true);
    for (const c of open) expect(await served(c.socket)).toBe(true);
    open[0]!.socket.destroy();
    await open[0]!.closed;
    // The server sees the close a moment after the client: a new connection is admitted once it has.
    let admitted = false;
    for (let attempt = 0; attempt < 100 && !admitted; attempt++) admitted = await served((await connectFrom(port)).socket);
    expect(admitted).toBe(true);
  });

  it("refuses connections beyond maxConnectionsPerAddress from one address, while another address still connects", async () => {
    const { port } = await serve({ maxConnectionsPerAddress: 3 });
    for (let i = 0; i < 3; i++) expect(await served((await connectFrom(port, "127.0.0.1")).socket)).toBe(true);
    const refused = await connectFrom(port, "127.0.0.1");
    expect(await within(refused.closed, OUTCOME_MS)).toBe(true);
    expect(await served((await connectFrom(port, "127.0.0.2")).socket)).toBe(true);
  });

  it("logs refusals at most once a second, counting the ones it did not log", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000 });
    const { logger, lines } = warnings();
    const { port } = await serve({ maxConnections: 1, logger });
    expect(await served((await connectFrom(port)).socket)).toBe(true);
    for (let i = 0; i < 20; i++) await (await connectFrom(port)).closed;
    expect(lines).toEqual(["refused 1 connection(s): 1 connections are open (maxConnections)"]);
    vi.setSystemTime(1_001_000);
    await (await connectFrom(port)).closed;
    expect(lines).toEqual(["refused 1 connection(s): 1 connections are open (maxConnections)", "refused 20 connection(s): 1 connections are open (maxConnections)"]);
  });
});
