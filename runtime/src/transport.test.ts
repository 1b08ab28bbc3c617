import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type Client, type DoraClient } from "./client.js";
import type { ClientOptions } from "./client-options.js";
import { Code } from "./code.js";
import { protoCodec } from "./codec.js";
import type { ClientConnection } from "./client-connection.js";
import { DoraError } from "./dora-error.js";
import type { NapConnection } from "./nap-connection.js";
import { FLAG_ACK, FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING, pingFrame, writeFrameHeader } from "./protocol/frame.js";
import { encodePkgFrame } from "./protocol/pkg.js";
import { createServer, type DoraServer } from "./server.js";
import type { ServerConnection } from "./server-connection.js";
import { EchoRequestSchema, EchoService, method } from "./test-helpers/echo-service.js";
import { Gate, RawPeer, startEchoServer, startRawServer, type EchoServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const ECHO = "/dora.test.v1.EchoService/Echo";
const NEVER_MS = 600_000;

let echo: EchoServer | undefined;
const peers: RawPeer[] = [];
const clients: Client[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await echo?.server.close();
  echo = undefined;
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function peer(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  peers.push(p);
  return p;
}

function client(address: string, options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ address, poolSize: 1, ...options });
  clients.push(c);
  return c;
}

async function rawServer(handlers: Parameters<typeof startRawServer>[0]) {
  const raw = await startRawServer(handlers);
  cleanups.push(raw.close);
  return raw;
}

function header(length: number, streamId: number, type: number, flags = 0): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, length, streamId, type, flags);
  return buf;
}

async function failure(p: Promise<unknown>): Promise<DoraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the call succeeded").toBeInstanceOf(DoraError);
  return e as DoraError;
}

describe("nap transport on the server", () => {
  it("answers a PING with a PING ACK on the same stream id", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.write(pingFrame(42, false));
    const ack = await p.next((f) => f.type === FRAME_PING);
    expect(ack).toMatchObject({ type: FRAME_PING, flags: FLAG_ACK, streamId: 42 });
  });

  it("answers a request written by hand, by qualified and by bare name, echoing version, seq and method", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.call(1, ECHO, { text: "q" });
    p.call(2, "Echo", { text: "b" });
    expect(await p.answer(1)).toMatchObject({ code: Code.Ok, text: "q", head: { method: ECHO, seq: 1, serializeType: "proto" } });
    expect(await p.answer(2)).toMatchObject({ code: Code.Ok, text: "b", head: { method: "Echo", seq: 2 } });
  });

  it("answers requests whose bytes arrive over the socket one at a time", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.socket.setNoDelay(true);
    const bytes = Buffer.concat(
      [1, 2].map((id) => encodePkgFrame(id, { version: 0, serializeType: "proto", seq: id, method: ECHO }, { k: "v" }, undefined, protoCodec.encode(EchoRequestSchema, { text: `byte-${id}` }))),
    );
    for (const byte of bytes) {
      p.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await p.answer(1)).text).toBe("byte-1");
    expect((await p.answer(2)).text).toBe("byte-2");
  });

  it.each([
    ["an oversize declared length", () => header(4 * 1024 * 1024 + 1, 1, FRAME_DATA)],
    ["garbage bytes", () => Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n")],
    ["an unknown frame type", () => Buffer.concat([header(1, 1, 0x05), Buffer.from([0])])],
  ])("closes the one connection that sends %s while another keeps working", async (_what, bytes) => {
    echo = await startEchoServer();
    const good = client(echo.address);
    expect((await good.unary(Echo, { text: "before" })).text).toBe("before");
    const bad = await peer(echo.port);
    const bystander = await peer(echo.port);
    bad.write(bytes());
    await bad.closed;
    expect((await good.unary(Echo, { text: "after" })).text).toBe("after");
    bystander.call(7, ECHO, { text: "still here" });
    expect((await bystander.answer(7)).text).toBe("still here");
    expect(bystander.isClosed).toBe(false);
  });

  it("closes the connection when the declared length is too big before the body is sent", async () => {
    echo = await startEchoServer({ maxFrameBytes: 1024 });
    const p = await peer(echo.port);
    p.write(header(1025, 1, FRAME_DATA)); // no body follows
    await p.closed;
  });

  it("answers an undecodable Pkg with BadRequest on its stream and keeps the connection", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.write(Buffer.concat([header(3, 9, FRAME_DATA), Buffer.from([0x0a, 0x7f, 0x00])]));
    const bad = await p.answer(9);
    expect(bad.code).toBe(Code.BadRequest);
    expect(bad.message).toBe("malformed Pkg");
    p.call(10, ECHO, { text: "ok" });
    expect((await p.answer(10)).text).toBe("ok");
  });

  it("answers BadRequest for a request payload the codec cannot decode, an unknown codec, and an empty method", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    const head = (seq: number, serializeType: string, method: string) => ({ version: 0, serializeType, seq, method });
    p.write(encodePkgFrame(1, head(1, "proto", ECHO), undefined, undefined, new Uint8Array([0x0a, 0x09, 0x41])));
    p.write(encodePkgFrame(2, head(2, "xml", ECHO), undefined, undefined, new Uint8Array(0)));
    p.write(encodePkgFrame(3, head(3, "proto", ""), undefined, undefined, new Uint8Array(0)));
    expect(await p.answer(1)).toMatchObject({ code: Code.BadRequest, message: "cannot decode dora.test.v1.EchoRequest with the proto codec" });
    expect(await p.answer(2)).toMatchObject({ code: Code.BadRequest, message: 'unknown serialize_type "xml"' });
    expect(await p.answer(3)).toMatchObject({ code: Code.BadRequest, message: "empty method" });
  });

  it("answers Unimplemented for an unknown method and for a bare name two services define", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.call(1, "/dora.test.v1.EchoService/Nope");
    p.call(2, "Shared");
    p.call(3, "Other");
    expect((await p.answer(1)).code).toBe(Code.Unimplemented);
    expect(await p.answer(2)).toMatchObject({ code: Code.Unimplemented, message: 'method name "Shared" is ambiguous' });
    expect(await p.answer(3)).toMatchObject({ code: Code.Ok, text: "other" });
  });

  it("rejects an invalid dora-timeout with BadRequest", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.call(1, ECHO, { text: "x" }, { "dora-timeout": "soon" });
    expect(await p.answer(1)).toMatchObject({ code: Code.BadRequest, message: 'invalid dora-timeout "soon"' });
  });

  it("closes a connection that reuses a stream id still in flight", async () => {
    echo = await startEchoServer();
    const p = await peer(echo.port);
    p.call(5, ECHO, { text: "slow", delayMs: NEVER_MS });
    p.call(5, ECHO, { text: "again" });
    await p.closed;
  });
});

describe("keepalive", () => {
  it("the server pings a silent peer and closes it when no answer comes", async () => {
    echo = await startEchoServer({ keepaliveTimeMs: 50, keepaliveTimeoutMs: 50 });
    const p = await peer(echo.port);
    // This peer never answers.
    await p.closed;
    expect(p.frames.some((f) => f.type === FRAME_PING && f.flags === 0)).toBe(true);
  });

  it("the server keeps a peer that answers its PINGs, and a call in flight across several keepalive periods completes", async () => {
    const gate = new Gate();
    // A PING goes out after 20 ms without reading; the ACK then has a second (ample on a busy machine) to arrive.
    const server = createServer({ keepaliveTimeMs: 20, keepaliveTimeoutMs: 1000 });
    server.register(EchoService, {
      async echo() {
        await gate.pass();
        return { text: "slow" };
      },
    });
    const { port } = await server.listen();
    cleanups.push(() => server.close());
    const p = await peer(port);
    p.call(1, ECHO, {});
    await gate.arrived(1);
    // After a PING the server sends the next one only once it has read something since: our ACK.
    let answered = 0;
    p.socket.on("data", () => {
      const pings = p.frames.filter((f) => f.type === FRAME_PING && f.flags === 0);
      for (const f of pings.slice(answered)) p.write(pingFrame(f.streamId, true));
      answered = pings.length;
    });
    await p.next(() => p.frames.filter((f) => f.type === FRAME_PING).length >= 3, NEVER_MS);
    gate.open();
    expect(await p.answer(1)).toMatchObject({ code: Code.Ok, text: "slow" });
    expect(p.isClosed).toBe(false);
  });

  it("the client closes a connection whose server goes silent and fails its calls with Unavailable before their deadline", async () => {
    // Answers the client's first PING (so the connection opens), then nothing.
    let answeredProbe = false;
    const raw = await rawServer({
      onFrame: (socket, frame) => {
        if (frame.type === FRAME_PING && !answeredProbe) {
          answeredProbe = true;
          socket.write(pingFrame(frame.streamId, true));
        }
      },
    });
    const c = client(raw.address, { keepaliveTimeMs: 50, keepaliveTimeoutMs: 50 });
    const err = await failure(c.unary(Echo, { text: "x" }, { timeoutMs: NEVER_MS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe(`connection to ${raw.address} closed: no frame received for 100 ms`);
  });
});

describe("a peer that does not speak dora (SPEC §4)", () => {
  it("is reported as such when it answers with bytes that are not a frame (an HTTP server)", async () => {
    const raw = await rawServer({ onConnection: (s) => s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) });
    const err = await failure(client(raw.address).unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe(`connection to ${raw.address} failed: the server does not speak dora: it answered with bytes that are not a dora frame; it answered in HTTP`);
  });

  it("is reported as such when it answers a PostgreSQL-like error to the first bytes", async () => {
    // 'E', then a length and fields: the length reads as a frame of about 1.1 GB.
    const pgError = Buffer.concat([Buffer.from("E"), Buffer.from([0, 0, 0, 0x54]), Buffer.from("SFATAL\0C0A000\0Munsupported frontend protocol\0\0")]);
    const raw = await rawServer({ onConnection: (s) => s.once("data", () => s.end(pgError)) });
    const err = await failure(client(raw.address).unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe(`connection to ${raw.address} failed: the server does not speak dora: it answered with bytes that are not a dora frame`);
  });

  it("is reported as such when it reads and says nothing (like Redis given binary garbage), after probeTimeoutMs", async () => {
    const raw = await rawServer({ onConnection: (s) => s.resume() });
    const c = client(raw.address, { probeTimeoutMs: 100 });
    const err = await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe(`connection to ${raw.address} failed: the server does not speak dora: it sent nothing within 100 ms of connecting`);
    // The failed connect backs off: the next call fails fast with the same reason.
    expect((await failure(c.unary(Echo, {}))).rawMessage).toBe(`no connection available: ${err.rawMessage}`);
  });

  it("waits one second by default for a silent server", async () => {
    const raw = await rawServer({ onConnection: (s) => s.resume() });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const c = client(raw.address);
    let settled = false;
    const result = failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS })).finally(() => (settled = true));
    while (!settled) {
      await vi.advanceTimersByTimeAsync(100);
      await new Promise((r) => setImmediate(r));
    }
    expect((await result).rawMessage).toBe(`connection to ${raw.address} failed: the server does not speak dora: it sent nothing within 1000 ms of connecting`);
  });

  it("is not mistaken for a dora server that answers the probe but is slow to answer the first call", async () => {
    const gate = new Gate();
    const server = createServer({});
    server.register(EchoService, {
      async echo() {
        await gate.pass();
        return { text: "eventually" };
      },
    });
    const { port } = await server.listen();
    cleanups.push(() => server.close());
    const c = client(`127.0.0.1:${port}`);
    const call = c.unary(Echo, {}, { timeoutMs: NEVER_MS });
    await gate.arrived(1);
    // White box: the PING answer, not the held call's, opens the connection.
    const connection = (c as DoraClient)["pool"][0] as ClientConnection;
    await vi.waitUntil(() => connection["state"].kind === "open", { timeout: NEVER_MS, interval: 10 });
    gate.open();
    expect((await call).text).toBe("eventually");
  });
});

describe("backpressure", () => {
  /** The server-side socket of the server's only connection (white box: the server is internal here). */
  function serverSocket(server: DoraServer): net.Socket {
    const connections = server["connections"] as Set<ServerConnection>;
    expect(connections.size).toBe(1);
    return ([...connections][0]!.channel as NapConnection).socket;
  }

  it("stops reading requests from a peer that does not read its answers, and resumes when it drains", async () => {
    let handled = 0;
    let wake: () => void = () => {};
    const changed = () => new Promise<void>((r) => (wake = r));
    const server = createServer({ maxConcurrentCalls: 100_000 }) as DoraServer;
    server.register(EchoService, {
      async echo() {
        handled++;
        wake();
        return { text: "x".repeat(64 * 1024) };
      },
    });
    const { port } = await server.listen();
    cleanups.push(() => server.close());
    const p = await peer(port);
    p.socket.pause(); // read nothing
    let sent = 0;
    p.call(++sent, ECHO, {});
    while (handled < sent) await changed();
    const socket = serverSocket(server);
    let paused = socket.isPaused();
    socket.on("pause", () => {
      paused = true;
      wake();
    });
    // Requests go out in batches, each once the server has handled the one before, so the
    // server reads them over many socket reads, until its write buffer is full and it pauses.
    while (!paused) {
      if (handled < sent) {
        await changed();
        continue;
      }
      for (let i = 0; i < 10; i++) p.call(++sent, ECHO, {});
    }
    // Paused: these stay unread until the peer reads its answers.
    for (let i = 0; i < 10; i++) p.call(++sent, ECHO, {});
    p.socket.resume();
    await p.next((f) => f.type === FRAME_DATA && f.streamId === sent, NEVER_MS);
    expect(handled).toBe(sent);
    expect(socket.isPaused()).toBe(false);
  });
});
