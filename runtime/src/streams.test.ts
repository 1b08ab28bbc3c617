import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Client } from "./client.js";
import type { ClientOptions } from "./client-options.js";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";
import type { Interceptor } from "./interceptor.js";
import { silentLogger } from "./logger.js";
import { decodePkg, encodePkgFrame } from "./protocol/pkg.js";
import { emptyStreamFrame, encodeMessageFrame, encodeOpenFrame, FLAG_END, FLAG_MESSAGE, FLAG_OPEN, FLAG_RESET, FLAG_WINDOW } from "./protocol/stream-frame.js";
import { createServer, type Server } from "./server.js";
import type { ServerOptions } from "./server-options.js";
import { Gate, RawPeer, startRawServer } from "./test-helpers/harness.js";
import { Both, Down, ItemSchema, StreamService, Unary, Up, type Item } from "./test-helpers/stream-service.js";
import { protoCodec } from "./codec.js";

/**
 * Streaming calls end to end over real sockets (docs/protocol.md §7):
 * order, half-close, cancellation both ways, errors mid-stream, deadlines,
 * interceptors, graceful close, many streams on one connection, and what a
 * dora v2 peer that does not stream makes of them.
 */

const servers: Server[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(impl: object, serverOptions: ServerOptions = {}, clientOptions: Partial<ClientOptions> = {}): Promise<{ server: Server; client: Client; port: number }> {
  const server = createServer({ logger: silentLogger, ...serverOptions });
  server.register(StreamService, impl);
  const { port } = await server.listen({ port: 0 });
  servers.push(server);
  const client = createClient({ address: `127.0.0.1:${port}`, poolSize: 1, ...clientOptions });
  clients.push(client);
  return { server, client, port };
}

function client(port: number, options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ address: `127.0.0.1:${port}`, poolSize: 1, ...options });
  clients.push(c);
  return c;
}

async function* items(...ns: number[]): AsyncIterable<{ n: number }> {
  for (const n of ns) yield { n };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Reads `it` to its end; returns what was read and the error that ended it (undefined when it ended cleanly). */
async function readAll<T>(it: AsyncIterable<T>): Promise<{ got: T[]; error: DoraError | undefined }> {
  const got: T[] = [];
  try {
    for await (const x of it) got.push(x);
  } catch (err) {
    if (!(err instanceof DoraError)) throw err;
    return { got, error: err };
  }
  return { got, error: undefined };
}

/** Resolves with the reason once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

/** Resolves when the signal aborts: a handler that waits for its call to end. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

describe("streaming calls", () => {
  it("delivers a server stream's messages in order", async () => {
    const { client } = await setup({
      async *down(req: Item) {
        for (let n = 0; n < req.n; n++) yield { n };
      },
    });
    const got = await collect(client.serverStream(Down, { n: 2000 }));
    expect(got.map((i) => i.n)).toEqual(Array.from({ length: 2000 }, (_, n) => n));
  });

  it("delivers a client stream's messages in order, and the handler answers after the client half-closes", async () => {
    const { client } = await setup({
      async up(reqs: AsyncIterable<Item>) {
        const seen: number[] = [];
        for await (const r of reqs) seen.push(r.n);
        return { n: seen.length, text: seen.join(",") };
      },
    });
    const ns = Array.from({ length: 500 }, (_, n) => n);
    const res = await client.clientStream(Up, items(...ns));
    expect(res.n).toBe(500);
    expect(res.text).toBe(ns.join(","));
  });

  it("half-closes from the client: the server reads to the end, then keeps sending", async () => {
    const { client } = await setup({
      async *both(reqs: AsyncIterable<Item>) {
        const seen: number[] = [];
        for await (const r of reqs) seen.push(r.n);
        // The requests have ended (the client half-closed); the stream is still open this way.
        for (const n of seen) yield { n: n * 10 };
        yield { text: "after half-close" };
      },
    });
    const got = await collect(client.bidiStream(Both, items(1, 2, 3)));
    expect(got.map((i) => i.n)).toEqual([10, 20, 30, 0]);
    expect(got[3]!.text).toBe("after half-close");
  });

  it("half-closes from the server: the call ends while the client still has requests, and the client stops pulling them", async () => {
    const { client } = await setup({
      async *both(reqs: AsyncIterable<Item>) {
        for await (const r of reqs) {
          yield { n: r.n };
          if (r.n === 2) return;
        }
      },
    });
    let pulled = 0;
    let finished!: () => void;
    const requestsClosed = new Promise<void>((r) => (finished = r));
    const gate = new Gate();
    async function* endless(): AsyncIterable<{ n: number }> {
      try {
        for (let n = 1; ; n++) {
          pulled++;
          yield { n };
          if (n >= 2) await gate.pass();
        }
      } finally {
        finished();
      }
    }
    const got = await collect(client.bidiStream(Both, endless()));
    expect(got.map((i) => i.n)).toEqual([1, 2]);
    gate.open();
    await requestsClosed;
    expect(pulled).toBeLessThanOrEqual(3);
  });

  it("cancels from the client mid-stream with break: the handler's signal aborts and its generator is closed", async () => {
    let signal!: AbortSignal;
    let closed!: () => void;
    const generatorClosed = new Promise<void>((r) => (closed = r));
    const { client } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        signal = ctx.signal;
        try {
          for (let n = 0; ; n++) yield { n };
        } finally {
          closed();
        }
      },
    });
    const got: number[] = [];
    for await (const item of client.serverStream(Down, {})) {
      got.push(item.n);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0, 1, 2]);
    expect(await aborted(signal)).toMatchObject({ code: Code.Canceled });
    await generatorClosed;
  });

  it("cancels from the client mid-stream with its AbortSignal: reading fails with Canceled and the handler's signal aborts", async () => {
    const gate = new Gate();
    let signal!: AbortSignal;
    const { client } = await setup({
      async *both(reqs: AsyncIterable<Item>, ctx: HandlerContext) {
        signal = ctx.signal;
        for await (const r of reqs) {
          yield { n: r.n };
          await gate.pass(ctx.signal);
        }
      },
    });
    const controller = new AbortController();
    const it = client.bidiStream(Both, items(1, 2, 3), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.n).toBe(1);
    await gate.arrived(1);
    controller.abort();
    await expect(it.next()).rejects.toMatchObject({ code: Code.Canceled });
    expect(await aborted(signal)).toMatchObject({ code: Code.Canceled });
  });

  it("cancels from the server mid-stream: a handler that fails with Canceled ends the client's reads with Canceled", async () => {
    const { client } = await setup({
      async *down() {
        yield { n: 1 };
        yield { n: 2 };
        throw new DoraError(Code.Canceled, "stopped by the server");
      },
    });
    const { got, error } = await readAll(client.serverStream(Down, {}));
    expect(got.map((i) => i.n)).toEqual([1, 2]);
    expect(error).toMatchObject({ code: Code.Canceled, rawMessage: "stopped by the server" });
  });

  it("cancels from the server mid-stream with RESET: the client fails with Canceled after what it had received", async () => {
    const raw = await startRawServer({
      speakDora: true,
      onFrame(socket, frame) {
        if (frame.type !== 0 || (frame.flags & FLAG_OPEN) === 0) return;
        const head = decodePkg(frame.payload).head!;
        socket.write(encodeOpenFrame(frame.streamId, FLAG_OPEN | FLAG_MESSAGE, head, undefined, undefined, protoCodec.encode(ItemSchema, { n: 7 })));
        socket.write(emptyStreamFrame(frame.streamId, FLAG_RESET));
      },
    });
    try {
      const c = createClient({ address: raw.address, poolSize: 1 });
      const { got, error } = await readAll(c.serverStream(Down, {}));
      expect(got.map((i) => i.n)).toEqual([7]);
      expect(error).toMatchObject({ code: Code.Canceled });
      await c.close();
    } finally {
      await raw.close();
    }
  });

  it("carries an error after N messages with its code, message and metadata, after those messages, with the trailers", async () => {
    const { client } = await setup({
      async *down(req: Item, ctx: HandlerContext) {
        ctx.responseTrailers["x-trailer"] = "t";
        for (let n = 0; n < req.n; n++) yield { n };
        throw new DoraError(Code.NotFound, "no more", { metadata: { "x-key": "a" } });
      },
    });
    let trailers: Readonly<Record<string, string>> = {};
    const { got, error } = await readAll(client.serverStream(Down, { n: 5 }, { onTrailer: (t) => (trailers = t) }));
    expect(got.map((i) => i.n)).toEqual([0, 1, 2, 3, 4]);
    expect(error).toMatchObject({ code: Code.NotFound, rawMessage: "no more", metadata: { "x-trailer": "t", "x-key": "a" } });
    expect(trailers).toEqual({ "x-trailer": "t", "x-key": "a" });
  });

  it("sends headers with the first message and trailers with the end; a handler's exception that is not a DoraError is Unknown", async () => {
    const { client } = await setup({
      async *down(req: Item, ctx: HandlerContext) {
        ctx.responseMeta["x-header"] = "h";
        ctx.responseMeta["dora-status"] = "5";
        yield { n: 1 };
        ctx.responseTrailers["x-trailer"] = "t";
        if (req.n === 1) throw new Error("internal detail");
      },
    });
    let headers: Readonly<Record<string, string>> = {};
    let trailers: Readonly<Record<string, string>> = {};
    const got = await collect(client.serverStream(Down, {}, { onHeader: (h) => (headers = h), onTrailer: (t) => (trailers = t) }));
    expect(got.map((i) => i.n)).toEqual([1]);
    expect(headers).toEqual({ "x-header": "h" });
    expect(trailers).toEqual({ "x-trailer": "t" });
    const { error } = await readAll(client.serverStream(Down, { n: 1 }));
    expect(error).toMatchObject({ code: Code.Unknown, rawMessage: "unknown error" });
  });

  it("fails a stream whose deadline expires mid-stream with DeadlineExceeded, after its messages; the handler's signal aborts", async () => {
    let signal!: AbortSignal;
    let deadline: number | undefined;
    const { client } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        signal = ctx.signal;
        deadline = ctx.deadline;
        yield { n: 1 };
        yield { n: 2 };
        await untilAborted(ctx.signal);
      },
    });
    const { got, error } = await readAll(client.serverStream(Down, {}, { timeoutMs: 100 }));
    expect(got.map((i) => i.n)).toEqual([1, 2]);
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(deadline).toBeDefined();
    expect(await aborted(signal)).toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("ends a stream with DeadlineExceeded from the server when its dora-timeout passes", async () => {
    const { port } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        yield { n: 1 };
        await untilAborted(ctx.signal);
      },
    });
    const peer = await RawPeer.connect(port);
    const head = { version: 0, serializeType: "proto", seq: 1, method: "/dora.test.v1.StreamService/Down" };
    peer.write(encodeOpenFrame(1, FLAG_OPEN | FLAG_MESSAGE | FLAG_END, head, undefined, { "dora-timeout": "50" }, new Uint8Array(0)));
    const end = await peer.next((f) => f.streamId === 1 && (f.flags & FLAG_END) !== 0);
    expect(decodePkg(end.payload).head?.meta).toMatchObject({ "dora-status": String(Code.DeadlineExceeded) });
    peer.destroy();
  });

  it("settles a pending next() with done when return() is called on a quiet stream, and cancels it on the server", async () => {
    const gate = new Gate();
    let signal!: AbortSignal;
    const { client } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        signal = ctx.signal;
        await gate.pass(ctx.signal);
        yield { n: 1 };
      },
    });
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    const pending = it.next();
    await gate.arrived(1);
    await expect(it.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(await aborted(signal)).toMatchObject({ code: Code.Canceled });
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it("does not hang when the reader breaks out of a quiet stream after its first message", async () => {
    let signal!: AbortSignal;
    const { client } = await setup({
      async *both(_reqs: AsyncIterable<Item>, ctx: HandlerContext) {
        signal = ctx.signal;
        yield { n: 1 };
        await untilAborted(ctx.signal);
      },
    });
    // The request iterable never ends either: nothing but the break ends this call.
    const never = new Gate();
    async function* quiet(): AsyncIterable<{ n: number }> {
      await never.pass();
    }
    for await (const item of client.bidiStream(Both, quiet())) {
      expect(item.n).toBe(1);
      break;
    }
    expect(await aborted(signal)).toMatchObject({ code: Code.Canceled });
  });

  it("runs streaming calls through the interceptors of both sides, which see req.stream and can wrap the messages", async () => {
    const trace: string[] = [];
    const serverSide: Interceptor = (next) => async (req) => {
      trace.push(`server ${req.method} stream=${req.stream} meta=${req.meta["x-client"]}`);
      const res = await next(req);
      if (!res.stream) return res;
      return {
        ...res,
        message: (async function* () {
          for await (const m of res.message) yield { ...m, text: `${(m as Item).text}+server` } as typeof m;
        })(),
      };
    };
    const clientSide: Interceptor = (next) => async (req) => {
      trace.push(`client ${req.method} stream=${req.stream}`);
      return next({ ...req, meta: { ...req.meta, "x-client": "c" } });
    };
    const { port } = await setup(
      {
        async *both(reqs: AsyncIterable<Item>) {
          for await (const r of reqs) yield { n: r.n, text: "h" };
        },
        async unary(req: Item) {
          return { n: req.n };
        },
      },
      { interceptors: [serverSide] },
    );
    const c = client(port, { interceptors: [clientSide] });
    const got = await collect(c.bidiStream(Both, items(1, 2)));
    expect(got.map((i) => `${i.n}:${i.text}`)).toEqual(["1:h+server", "2:h+server"]);
    expect((await c.unary(Unary, { n: 4 })).n).toBe(4);
    expect(trace).toEqual([
      "client /dora.test.v1.StreamService/Both stream=true",
      "server /dora.test.v1.StreamService/Both stream=true meta=c",
      "client /dora.test.v1.StreamService/Unary stream=false",
      "server /dora.test.v1.StreamService/Unary stream=false meta=c",
    ]);
  });

  it("ends open streams with Unavailable when the server's grace period is over, and refuses new ones while closing", async () => {
    const gate = new Gate();
    let signal!: AbortSignal;
    const { server, client } = await setup(
      {
        async *down(_req: Item, ctx: HandlerContext) {
          signal = ctx.signal;
          yield { n: 1 };
          await gate.pass(ctx.signal);
        },
      },
      { closeGraceMs: 50 },
    );
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    expect((await it.next()).value?.n).toBe(1);
    await gate.arrived(1);
    const closing = server.close();
    const refused = await readAll(client.serverStream(Down, {}));
    expect(refused.error?.code).toBe(Code.Unavailable);
    await expect(it.next()).rejects.toMatchObject({ code: Code.Unavailable });
    expect(await aborted(signal)).toMatchObject({ code: Code.Unavailable });
    await closing;
  });

  it("cancels open streams when the client closes", async () => {
    let signal!: AbortSignal;
    const gate = new Gate();
    const { client } = await setup({
      async *down(_req: Item, ctx: HandlerContext) {
        signal = ctx.signal;
        await gate.pass(ctx.signal);
        yield { n: 1 };
      },
    });
    const reading = readAll(client.serverStream(Down, {}));
    await gate.arrived(1);
    await client.close();
    expect((await reading).error?.code).toBe(Code.Canceled);
    expect(await aborted(signal)).toMatchObject({ code: Code.Canceled });
  });

  it("serves 10,000 concurrent streams on one connection mixed with unary calls", async () => {
    const { client } = await setup(
      {
        async *down(req: Item) {
          for (let i = 0; i < 3; i++) yield { n: req.n * 3 + i };
        },
        async unary(req: Item) {
          return { n: req.n + 1 };
        },
      },
      { maxConcurrentCalls: 20000 },
      // On a loaded machine the unary calls queue behind 10,000 streams for longer than the default
      // 5 s, and the answer to the probe PING sent on connect behind the first batch of them.
      { timeoutMs: 600_000, probeTimeoutMs: 600_000 },
    );
    const streams = Array.from({ length: 10000 }, (_, i) => collect(client.serverStream(Down, { n: i })));
    const unary = Array.from({ length: 2000 }, (_, i) => client.unary(Unary, { n: i }));
    const [streamed, answered] = await Promise.all([Promise.all(streams), Promise.all(unary)]);
    streamed.forEach((got, i) => expect(got.map((x) => x.n)).toEqual([i * 3, i * 3 + 1, i * 3 + 2]));
    answered.forEach((res, i) => expect(res.n).toBe(i + 1));
  });

  it("counts streams toward maxConcurrentCalls", async () => {
    const gate = new Gate();
    const { client } = await setup(
      {
        async *down(_req: Item, ctx: HandlerContext) {
          yield { n: 1 };
          await gate.pass(ctx.signal);
        },
        async unary() {
          return {};
        },
      },
      { maxConcurrentCalls: 2 },
    );
    const a = client.serverStream(Down, {})[Symbol.asyncIterator]();
    const b = client.serverStream(Down, {})[Symbol.asyncIterator]();
    await a.next();
    await b.next();
    await expect(client.unary(Unary, {})).rejects.toMatchObject({ code: Code.ResourceExhausted });
    expect((await readAll(client.serverStream(Down, {}))).error?.code).toBe(Code.ResourceExhausted);
    gate.open();
    await a.return!();
    await b.return!();
  });

  it("answers Unimplemented to an OPEN for a unary method and to a unary request for a streaming method", async () => {
    const { port } = await setup({ async unary() { return {}; }, async *down() { yield {}; } });
    const peer = await RawPeer.connect(port);
    const head = (method: string) => ({ version: 0, serializeType: "proto", seq: 1, method: `/dora.test.v1.StreamService/${method}` });
    peer.write(encodeOpenFrame(1, FLAG_OPEN | FLAG_MESSAGE | FLAG_END, head("Unary"), undefined, undefined, new Uint8Array(0)));
    const open = await peer.next((f) => f.streamId === 1);
    expect(open.flags).toBe(FLAG_OPEN | FLAG_END);
    expect(decodePkg(open.payload).head?.meta?.["dora-status"]).toBe(String(Code.Unimplemented));
    peer.write(encodePkgFrame(3, head("Down"), undefined, undefined, new Uint8Array(0)));
    const unary = await peer.next((f) => f.streamId === 3);
    expect(unary.flags).toBe(0);
    expect(decodePkg(unary.payload).head?.meta).toMatchObject({ "dora-status": String(Code.Unimplemented) });
    expect(peer.isClosed).toBe(false);
    peer.destroy();
  });

  it("fails a streaming call with Unimplemented when a dora v2 server answers it as a unary call, and never sends it a WINDOW", async () => {
    let answerOk = false;
    const flagsSeen: number[] = [];
    const raw = await startRawServer({
      speakDora: true,
      onFrame(socket, frame) {
        if (frame.type === 0) flagsSeen.push(frame.flags);
        // A unary call is answered OK: the test's barrier.
        if (frame.type === 0 && frame.flags === 0) socket.write(encodePkgFrame(frame.streamId, decodePkg(frame.payload).head!, undefined, undefined, new Uint8Array(0)));
        if (frame.type !== 0 || (frame.flags & FLAG_OPEN) === 0) return;
        const head = decodePkg(frame.payload).head!;
        // A dora v2 Go server ignores the flags: a unary answer, flags 0.
        const status = answerOk ? undefined : { "dora-status": "1", "dora-message": `method '${head.method}' is unimplemented` };
        socket.write(encodePkgFrame(frame.streamId, head, undefined, status, new Uint8Array(0)));
      },
    });
    try {
      const c = createClient({ address: raw.address, poolSize: 1, streamWindowBytes: 1024 * 1024 });
      const first = await readAll(c.serverStream(Down, {}));
      expect(first.error).toMatchObject({ code: Code.Unimplemented, rawMessage: "method '/dora.test.v1.StreamService/Down' is unimplemented" });
      answerOk = true;
      await expect(c.clientStream(Up, items(1))).rejects.toMatchObject({ code: Code.Unimplemented });
      // Every frame the client wrote before this call has reached the server.
      await c.unary(Unary, {});
      expect(flagsSeen.filter((f) => (f & FLAG_WINDOW) !== 0)).toEqual([]);
      await c.close();
    } finally {
      await raw.close();
    }
  });

  it("keeps a stream that is moving data across several keepalive periods", async () => {
    const { client } = await setup(
      {
        async *down(req: Item) {
          for (let n = 0; n < req.n; n++) {
            await new Promise((r) => setTimeout(r, 10));
            yield { n };
          }
        },
      },
      { keepaliveTimeMs: 20, keepaliveTimeoutMs: 1000 },
      { keepaliveTimeMs: 20, keepaliveTimeoutMs: 1000 },
    );
    expect((await collect(client.serverStream(Down, { n: 15 }))).length).toBe(15);
  });

  it("fails a client stream with the error its request iterable throws, and cancels the handler", async () => {
    let started!: (signal: AbortSignal) => void;
    const handlerSignal = new Promise<AbortSignal>((r) => (started = r));
    const { client } = await setup({
      async up(reqs: AsyncIterable<Item>, ctx: HandlerContext) {
        started(ctx.signal);
        for await (const _ of reqs);
        return {};
      },
    });
    async function* failing(): AsyncIterable<{ n: number }> {
      yield { n: 1 };
      throw new DoraError(Code.BadRequest, "bad input");
    }
    await expect(client.clientStream(Up, failing())).rejects.toMatchObject({ code: Code.BadRequest, rawMessage: "bad input" });
    expect(await aborted(await handlerSignal)).toMatchObject({ code: Code.Canceled });
  });

  it("streams with the json codec both ways", async () => {
    const { port } = await setup({
      async *both(reqs: AsyncIterable<Item>) {
        for await (const r of reqs) yield { n: r.n + 1, text: `${r.text}!` };
      },
    });
    const c = client(port, { serializeType: "json" });
    const got = await collect(c.bidiStream(Both, (async function* () {
      yield { n: 1, text: "a" };
      yield { n: 2, text: "ü" };
    })()));
    expect(got.map((i) => `${i.n}${i.text}`)).toEqual(["2a!", "3ü!"]);
  });

  it("ends a stream with OutOfRange when a response exceeds the maximum frame size, and fails a request that does on the client", async () => {
    const { port } = await setup(
      {
        async *down(req: Item) {
          yield { n: 1 };
          yield { blob: new Uint8Array(req.n) };
        },
        async up(reqs: AsyncIterable<Item>) {
          for await (const _ of reqs);
          return {};
        },
      },
      { maxFrameBytes: 4096 },
    );
    const c = client(port, { maxFrameBytes: 4096 });
    const { got, error } = await readAll(c.serverStream(Down, { n: 8000 }));
    expect(got.map((i) => i.n)).toEqual([1]);
    expect(error).toMatchObject({ code: Code.OutOfRange, rawMessage: "response exceeds the maximum frame size" });
    await expect(c.clientStream(Up, (async function* () {
      yield { blob: new Uint8Array(8000) };
    })())).rejects.toMatchObject({ code: Code.OutOfRange });
    await expect(collect(c.serverStream(Down, { blob: new Uint8Array(8000) }))).rejects.toMatchObject({ code: Code.OutOfRange });
  });

  it("ends a stream with BadRequest when a request message cannot be decoded; the connection stays up", async () => {
    const { port } = await setup({
      async up(reqs: AsyncIterable<Item>) {
        for await (const _ of reqs);
        return {};
      },
    });
    const peer = await RawPeer.connect(port);
    const head = { version: 0, serializeType: "proto", seq: 1, method: "/dora.test.v1.StreamService/Up" };
    peer.write(encodeOpenFrame(1, FLAG_OPEN, head, undefined, undefined, new Uint8Array(0)));
    // A Pkg whose payload is not an Item: field 1 (n, a varint) sent as a truncated length-delimited field.
    peer.write(encodeMessageFrame(1, FLAG_MESSAGE, Buffer.from([0x0a, 0x05, 0x01])));
    const end = await peer.next((f) => f.streamId === 1);
    expect(end.flags).toBe(FLAG_OPEN | FLAG_END);
    expect(decodePkg(end.payload).head?.meta?.["dora-status"]).toBe(String(Code.BadRequest));
    peer.call(3, "/dora.test.v1.StreamService/Unary");
    expect((await peer.answer(3)).code).toBe(Code.Unimplemented);
    peer.destroy();
  });

  it("ends a client stream of no messages and a server stream of no messages cleanly", async () => {
    const { client } = await setup({
      async up(reqs: AsyncIterable<Item>) {
        let n = 0;
        for await (const _ of reqs) n++;
        return { n: n + 100 };
      },
      async *down() {},
    });
    expect((await client.clientStream(Up, items())).n).toBe(100);
    expect(await collect(client.serverStream(Down, {}))).toEqual([]);
  });
});
