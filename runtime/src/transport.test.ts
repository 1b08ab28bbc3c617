import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Client } from "./client.js";
import { Code } from "./code.js";
import { FLAG_ACK, FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING, pingFrame, writeFrameHeader } from "./frame.js";
import { EchoService, method, type EchoResponse } from "./test-helpers/echo-service.js";
import { RawPeer, startEchoServer, within, type EchoServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const ECHO = "/dora.test.v1.EchoService/Echo";

let echo: EchoServer | undefined;
const peers: RawPeer[] = [];
const clients: Client[] = [];
const rawServers: net.Server[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await echo?.server.close();
  echo = undefined;
  await Promise.all(rawServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function peer(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  peers.push(p);
  return p;
}

function client(address: string, options: Parameters<typeof createClient>[0] extends infer O ? Partial<O> : never = {}): Client {
  const c = createClient({ address, poolSize: 1, ...options });
  clients.push(c);
  return c;
}

function header(length: number, streamId: number, type: number, flags = 0): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, length, streamId, type, flags);
  return buf;
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
    const { encodePkgFrame } = await import("./pkg.js");
    const { protoCodec } = await import("./codec.js");
    const { EchoRequestSchema } = await import("./test-helpers/echo-service.js");
    const p = await peer(echo.port);
    p.socket.setNoDelay(true);
    const bytes = Buffer.concat(
      [1, 2].map((id) => encodePkgFrame(id, 0, "proto", id, ECHO, { k: "v" }, protoCodec.encode(EchoRequestSchema, { text: `byte-${id}` } as never))),
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
    expect(((await good.unary(Echo, { text: "before" })) as unknown as EchoResponse).text).toBe("before");
    const bad = await peer(echo.port);
    const bystander = await peer(echo.port);
    bad.write(bytes());
    expect(await within(bad.closed, 3000)).toBe(true);
    expect(((await good.unary(Echo, { text: "after" })) as unknown as EchoResponse).text).toBe("after");
    bystander.call(7, ECHO, { text: "still here" });
    expect((await bystander.answer(7)).text).toBe("still here");
    expect(bystander.isClosed).toBe(false);
  });

  it("closes the connection when the declared length is too big before the body is sent", async () => {
    echo = await startEchoServer({ maxFrameBytes: 1024 });
    const p = await peer(echo.port);
    p.write(header(1025, 1, FRAME_DATA)); // no body follows
    expect(await within(p.closed, 3000)).toBe(true);
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
    const { encodePkgFrame } = await import("./pkg.js");
    const p = await peer(echo.port);
    p.write(encodePkgFrame(1, 0, "proto", 1, ECHO, undefined, new Uint8Array([0x0a, 0x09, 0x41])));
    p.write(encodePkgFrame(2, 0, "xml", 2, ECHO, undefined, new Uint8Array(0)));
    p.write(encodePkgFrame(3, 0, "proto", 3, "", undefined, new Uint8Array(0)));
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
    p.call(5, ECHO, { text: "slow", delayMs: 1000 });
    p.call(5, ECHO, { text: "again" });
    expect(await within(p.closed, 3000)).toBe(true);
  });
});

describe("keepalive", () => {
  it("the server pings a silent peer and closes it when no answer comes", async () => {
    echo = await startEchoServer({ keepaliveTimeMs: 50, keepaliveTimeoutMs: 50 });
    const p = await peer(echo.port);
    // This peer never answers.
    expect(await within(p.closed, 3000)).toBe(true);
    expect(p.frames.some((f) => f.type === FRAME_PING && f.flags === 0)).toBe(true);
  });

  it("the server keeps a peer that answers its PINGs", async () => {
    echo = await startEchoServer({ keepaliveTimeMs: 30, keepaliveTimeoutMs: 30 });
    const p = await peer(echo.port);
    let answered = 0;
    p.socket.on("data", () => {
      const pings = p.frames.filter((f) => f.type === FRAME_PING && f.flags === 0);
      for (const f of pings.slice(answered)) p.write(pingFrame(f.streamId, true));
      answered = pings.length;
    });
    expect(await within(p.closed, 600)).toBe(false);
    expect(answered).toBeGreaterThan(1);
    p.call(1, ECHO, { text: "alive" });
    expect((await p.answer(1)).text).toBe("alive");
  });

  it("a call in flight longer than several keepalive periods completes on a live peer", async () => {
    echo = await startEchoServer({ keepaliveTimeMs: 20, keepaliveTimeoutMs: 20 });
    const c = client(echo.address, { keepaliveTimeMs: 20, keepaliveTimeoutMs: 20 });
    const res = (await c.unary(Echo, { text: "slow", delayMs: 400 })) as unknown as EchoResponse;
    expect(res.text).toBe("slow");
  });

  it("the client closes a connection to a silent server and fails its calls with Unavailable before their deadline", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
    });
    rawServers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const c = client(`127.0.0.1:${port}`, { keepaliveTimeMs: 50, keepaliveTimeoutMs: 50 });
    const started = Date.now();
    const err = await c.unary(Echo, { text: "x" }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Unavailable });
    expect((err as Error).message).toMatch(/no frame received/);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const s of sockets) s.destroy();
  });
});

describe("backpressure", () => {
  it("stops reading requests from a peer that does not read its answers, and resumes when it drains", async () => {
    const { createServer } = await import("./server.js");
    let handled = 0;
    const server = createServer({ maxConcurrentCalls: 10_000 });
    server.register(EchoService, {
      async echo() {
        handled++;
        return { text: "x".repeat(64 * 1024) };
      },
    });
    const { port } = await server.listen();
    try {
      const p = await peer(port);
      p.socket.pause(); // read nothing
      const total = 600; // 600 × 64 KiB of answers: far more than the socket buffers hold
      // Requests go out in small batches, so the server reads them over many socket reads.
      for (let i = 1; i <= total; i++) {
        p.call(i, ECHO, {});
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 300));
      const whilePaused = handled;
      expect(whilePaused).toBeLessThan(total);
      p.socket.resume();
      await p.next((f) => f.type === FRAME_DATA && f.streamId === total, 10_000);
      expect(handled).toBe(total);
    } finally {
      for (const p of peers.splice(0)) p.destroy();
      await server.close();
    }
  });
});
