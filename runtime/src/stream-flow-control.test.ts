import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Client } from "./client.js";
import type { ClientOptions } from "./client-options.js";
import { Code } from "./code.js";
import { protoCodec } from "./codec.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";
import { silentLogger } from "./logger.js";
import { decodePkg, encodePkgFrame } from "./protocol/pkg.js";
import { encodeMessageFrame, encodeOpenFrame, FLAG_MESSAGE, FLAG_OPEN, FLAG_WINDOW, windowFrame } from "./protocol/stream-frame.js";
import { createServer, type Server } from "./server.js";
import type { ServerOptions } from "./server-options.js";
import { RawPeer, startRawServer } from "./test-helpers/harness.js";
import { Both, Down, ItemSchema, StreamService, Unary, Up, type Item } from "./test-helpers/stream-service.js";

/**
 * Per-stream flow control (docs/protocol.md §7 "Flow control"): a reader
 * that stops reading stops the producer after one window, a larger window
 * is announced and used, and a peer that sends beyond its credit loses its
 * connection, on either side.
 */

const servers: Server[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(impl: object, serverOptions: ServerOptions = {}, clientOptions: Partial<ClientOptions> = {}): Promise<{ client: Client; port: number }> {
  const server = createServer({ logger: silentLogger, ...serverOptions });
  server.register(StreamService, { async unary() { return {}; }, ...impl });
  const { port } = await server.listen({ port: 0 });
  servers.push(server);
  const client = createClient({ address: `127.0.0.1:${port}`, poolSize: 1, ...clientOptions });
  clients.push(client);
  return { client, port };
}

const KIB = 1024;
const STREAM_HEAD = { version: 0, serializeType: "proto", seq: 1, method: "/dora.test.v1.StreamService/Up" };

/** A producer that yields `size`-byte messages for ever, counting what it yielded. */
function producer(size: number): { produced: () => number; impl: object } {
  let produced = 0;
  return {
    produced: () => produced,
    impl: {
      async *down(_req: Item, ctx: HandlerContext) {
        const blob = new Uint8Array(size);
        while (!ctx.signal.aborted) {
          produced++;
          yield { n: produced, blob };
        }
      },
    },
  };
}

/** Waits until `count()` reaches `n`, checking once per event-loop turn. */
async function reach(count: () => number, n: number): Promise<void> {
  while (count() < n) await new Promise((r) => setImmediate(r));
}

describe("flow control", () => {
  it("pauses the producer of a server stream whose reader stops reading, after one window, and resumes it when reading resumes", async () => {
    const p = producer(8 * KIB);
    const { client } = await setup(p.impl);
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    expect((await it.next()).value?.n).toBe(1);
    // 64 KiB of credit takes 7 messages of 8 KiB (+ framing) and an 8th that overdraws it; then the producer waits.
    await reach(p.produced, 8);
    // A unary call on the same connection completes: every frame sent before it (any WINDOW too) has been handled.
    await client.unary(Unary, {});
    await client.unary(Unary, {});
    expect(p.produced()).toBe(8);
    // Reading resumes the producer.
    for (let i = 0; i < 40; i++) await it.next();
    expect(p.produced()).toBeGreaterThan(40);
    await it.return!();
  });

  it("keeps memory bounded when a reader stops reading a fast producer of large messages", async () => {
    const p = producer(256 * KIB);
    const { client } = await setup(p.impl);
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    await it.next();
    const before = process.memoryUsage().rss;
    await client.unary(Unary, {});
    await client.unary(Unary, {});
    // One message overdraws the window: the producer stops after two, however long the reader waits.
    expect(p.produced()).toBeLessThanOrEqual(3);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * KIB * KIB);
    await it.return!();
  });

  it("pauses a client's request iterable while the handler does not read, and resumes it when it reads", async () => {
    let pulled = 0;
    let release!: () => void;
    const reading = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    const { client } = await setup({
      async up(reqs: AsyncIterable<Item>) {
        started();
        await reading;
        let n = 0;
        for await (const _ of reqs) n++;
        return { n };
      },
    });
    async function* requests(): AsyncIterable<{ blob: Uint8Array }> {
      const blob = new Uint8Array(8 * KIB);
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield { blob };
      }
    }
    const call = client.clientStream(Up, requests());
    await handlerStarted;
    await reach(() => pulled, 8);
    await client.unary(Unary, {});
    await client.unary(Unary, {});
    expect(pulled).toBe(8);
    release();
    expect((await call).n).toBe(50);
  });

  it("announces a larger client window (streamWindowBytes) and the server uses it", async () => {
    const p = producer(8 * KIB);
    const { client } = await setup(p.impl, {}, { streamWindowBytes: 256 * KIB });
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    await it.next();
    // 256 KiB take 31 messages of 8 KiB and a 32nd that overdraws the window (64 KiB would take 8).
    await reach(p.produced, 32);
    await client.unary(Unary, {});
    await client.unary(Unary, {});
    expect(p.produced()).toBe(32);
    await it.return!();
  });

  it("closes the connection of a client that sends beyond its window, and keeps one that stays within it", async () => {
    const { port } = await setup({
      async up(_reqs: AsyncIterable<Item>, ctx: HandlerContext) {
        // Never reads: no credit goes back.
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
        return {};
      },
    });
    const message = protoCodec.encode(ItemSchema, { blob: new Uint8Array(10 * KIB) });
    const polite = await RawPeer.connect(port);
    polite.write(encodeOpenFrame(1, FLAG_OPEN, STREAM_HEAD, undefined, undefined, new Uint8Array(0)));
    for (let i = 0; i < 6; i++) polite.write(encodeMessageFrame(1, FLAG_MESSAGE, message));
    polite.call(3, "/dora.test.v1.StreamService/Unary");
    expect((await polite.answer(3)).code).toBe(Code.Ok);
    expect(polite.isClosed).toBe(false);
    polite.destroy();

    const greedy = await RawPeer.connect(port);
    greedy.write(encodeOpenFrame(1, FLAG_OPEN, STREAM_HEAD, undefined, undefined, new Uint8Array(0)));
    for (let i = 0; i < 8; i++) greedy.write(encodeMessageFrame(1, FLAG_MESSAGE, message));
    await greedy.closed;
  });

  it("closes the connection of a peer that sends an invalid WINDOW", async () => {
    const { port } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        yield { n: 1 };
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
      },
    });
    const peer = await RawPeer.connect(port);
    peer.write(encodeOpenFrame(1, FLAG_OPEN | FLAG_MESSAGE, { ...STREAM_HEAD, method: "/dora.test.v1.StreamService/Down" }, undefined, undefined, new Uint8Array(0)));
    await peer.next((f) => f.streamId === 1);
    peer.write(windowFrame(1, 0));
    await peer.closed;
  });

  it("closes the client's connection when a server sends beyond the client's window; the call fails with Unavailable after what it had read", async () => {
    let socketClosed!: () => void;
    const serverSawClose = new Promise<void>((r) => (socketClosed = r));
    const raw = await startRawServer({
      speakDora: true,
      onConnection: (socket) => socket.once("close", () => socketClosed()),
      onFrame(socket, frame) {
        if (frame.type !== 0 || (frame.flags & FLAG_OPEN) === 0) return;
        const head = decodePkg(frame.payload).head!;
        const message = protoCodec.encode(ItemSchema, { blob: new Uint8Array(10 * KIB) });
        socket.write(encodeOpenFrame(frame.streamId, FLAG_OPEN | FLAG_MESSAGE, head, undefined, undefined, message));
        // Far beyond the 64 KiB the client granted, without waiting for a WINDOW.
        for (let i = 0; i < 12; i++) socket.write(encodeMessageFrame(frame.streamId, FLAG_MESSAGE, message));
      },
    });
    try {
      const c = createClient({ address: raw.address, poolSize: 1 });
      const it = c.bidiStream(Both, (async function* () {})())[Symbol.asyncIterator]();
      // One message read (no credit returned yet), then the overrun arrives and the client closes the connection.
      expect((await it.next()).done).toBe(false);
      await serverSawClose;
      let read = 1;
      let error: unknown;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done === true) break;
          read++;
        }
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DoraError);
      expect((error as DoraError).code).toBe(Code.Unavailable);
      // What arrived within the window is still read: 7 messages of 10 KiB fit 64 KiB.
      expect(read).toBe(7);
      await c.close();
    } finally {
      await raw.close();
    }
  });

  it("sends WINDOW frames only as the reader consumes, half a window at a time", async () => {
    const frames: number[] = [];
    const raw = await startRawServer({
      speakDora: true,
      onFrame(socket, frame) {
        if (frame.type !== 0) return;
        if ((frame.flags & FLAG_WINDOW) !== 0) frames.push(frame.payload.readUInt32BE(0));
        // A unary call is answered OK: the test's barrier.
        if (frame.flags === 0) socket.write(encodePkgFrame(frame.streamId, decodePkg(frame.payload).head!, undefined, undefined, new Uint8Array(0)));
        if ((frame.flags & FLAG_OPEN) === 0) return;
        const head = decodePkg(frame.payload).head!;
        const message = protoCodec.encode(ItemSchema, { blob: new Uint8Array(KIB) });
        socket.write(encodeOpenFrame(frame.streamId, FLAG_OPEN | FLAG_MESSAGE, head, undefined, undefined, message));
        for (let i = 0; i < 40; i++) socket.write(encodeMessageFrame(frame.streamId, FLAG_MESSAGE, message));
      },
    });
    try {
      const c = createClient({ address: raw.address, poolSize: 1 });
      const it = c.serverStream(Down, {})[Symbol.asyncIterator]();
      for (let i = 0; i < 41; i++) await it.next();
      // Every frame the client wrote before this call has reached the server.
      await c.unary(Unary, {});
      // 41 messages of about 1 KiB: one batch of half a window has been returned.
      expect(frames).toHaveLength(1);
      expect(frames[0]).toBeGreaterThanOrEqual(32 * KIB);
      await it.return!();
      await c.close();
    } finally {
      await raw.close();
    }
  });
});
