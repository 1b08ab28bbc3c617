import { describe, expect, it } from "vitest";
import { Code } from "./code.js";
import { createContextKey } from "./context-values.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";
import { createInProcessClient } from "./in-process-client.js";
import type { Interceptor } from "./interceptor.js";
import { silentLogger, type Logger } from "./logger.js";
import { SLAB_BYTES } from "./protocol/frame-slab.js";
import { createServer } from "./server.js";
import type { ServerOptions } from "./server-options.js";
import { EchoService, method, type EchoRequest } from "./test-helpers/echo-service.js";
import { Gate } from "./test-helpers/harness.js";
import { Down, StreamService, type Item } from "./test-helpers/stream-service.js";

const Echo = method(EchoService, "Echo");
const Fail = method(EchoService, "Fail");
const ECHO = "/dora.test.v1.EchoService/Echo";

function server(impl: object, options: ServerOptions = {}) {
  const s = createServer({ logger: silentLogger, ...options });
  s.register(EchoService, impl);
  return s;
}

async function failure(p: Promise<unknown>): Promise<DoraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the call succeeded").toBeInstanceOf(DoraError);
  return e as DoraError;
}

describe("in-process client", () => {
  it("calls a server's handlers without listening, with metadata both ways and dora- keys kept out", async () => {
    let seen: HandlerContext | undefined;
    const s = server({
      async echo(req: EchoRequest, ctx: HandlerContext) {
        seen = ctx;
        ctx.responseMeta["x-served"] = "yes";
        ctx.responseMeta["dora-status"] = "13";
        return { text: `echo ${req.text}`, count: BigInt(req.blob.length) };
      },
    });
    const client = createInProcessClient(s, { meta: { "x-client": "c" } });
    let responseMeta: Readonly<Record<string, string>> = {};
    const res = await client.unary(Echo, { text: "hi", blob: new Uint8Array(3) }, { meta: { "dora-timeout": "1" }, onResponseMeta: (m) => (responseMeta = m) });
    expect(res).toMatchObject({ text: "echo hi", count: 3n });
    expect(responseMeta).toEqual({ "x-served": "yes" });
    expect(seen!.method).toBe(ECHO);
    expect(seen!.requestMeta).toEqual({ "x-client": "c" });
    expect(seen!.peer).toEqual({ address: "in-process", port: 0, certificate: undefined });
    await client.close();
    await s.close();
  });

  it("hands a handler bytes that hold only their own frame, not a slab shared with other frames", async () => {
    const blobs: Uint8Array[] = [];
    const s = server({
      async echo(req: EchoRequest) {
        blobs.push(req.blob);
        return { text: "", count: BigInt(req.blob.length) };
      },
    });
    const client = createInProcessClient(s);
    for (const size of [1, 2500]) await client.unary(Echo, { text: "x".repeat(size), blob: new Uint8Array(size).fill(7) });
    await client.close();
    await s.close();
    expect(blobs.map((b) => b.length)).toEqual([1, 2500]);
    // The frame of a 2500-byte request is ~5 KB (a slab's, before the copy): its own buffer; a small one may share Node's 8 KiB pool.
    expect(blobs[1]!.buffer.byteLength).toBeLessThan(SLAB_BYTES / 4);
    expect(blobs[0]!.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize);
  });

  it("encodes with the client's codec and the server answers in it", async () => {
    const s = server({ echo: async (req: EchoRequest) => ({ text: req.text, count: 9007199254740993n }) });
    const client = createInProcessClient(s, { serializeType: "json" });
    expect(await client.unary(Echo, { text: "jsön" })).toMatchObject({ text: "jsön", count: 9007199254740993n });
  });

  it("runs the server's and the client's interceptors, and hands context values to the handler", async () => {
    const trace: string[] = [];
    const kUser = createContextKey("nobody");
    const serverSide: Interceptor = (next) => async (req) => {
      trace.push(`server ${req.method} peer=${req.peer?.address}`);
      req.values.set(kUser, req.meta["username"] ?? "nobody");
      return next(req);
    };
    const clientSide: Interceptor = (next) => async (req) => {
      trace.push(`client ${req.method}`);
      return next({ ...req, meta: { ...req.meta, username: "ann" } });
    };
    const s = server({ echo: async (_req: EchoRequest, ctx: HandlerContext) => ({ text: ctx.values.get(kUser) }) }, { interceptors: [serverSide] });
    const client = createInProcessClient(s, { interceptors: [clientSide], peer: { address: "10.0.0.7", port: 4242 } });
    expect((await client.unary(Echo, {})).text).toBe("ann");
    expect(trace).toEqual([`client ${ECHO}`, `server ${ECHO} peer=10.0.0.7`]);
  });

  it("carries errors as a remote client sees them: DoraError code, message and metadata; anything else as Unknown, logged", async () => {
    const logged: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg) => logged.push(msg) };
    const s = server(
      {
        async echo() {
          throw new Error("internal detail");
        },
        async fail() {
          throw new DoraError(Code.NotFound, "no such key", { metadata: { "x-key": "a" } });
        },
      },
      { logger },
    );
    const client = createInProcessClient(s);
    expect(await failure(client.unary(Fail, {}))).toMatchObject({ code: Code.NotFound, rawMessage: "no such key", metadata: { "x-key": "a" } });
    expect(await failure(client.unary(Echo, {}))).toMatchObject({ code: Code.Unknown, rawMessage: "unknown error" });
    expect(logged).toEqual(["handler failed"]);
  });

  it("carries the deadline: the handler sees it, the call fails with DeadlineExceeded and the handler's signal aborts", async () => {
    const gate = new Gate();
    let deadline: number | undefined;
    let aborted!: (reason: unknown) => void;
    const abortedOnServer = new Promise((r) => (aborted = r));
    const s = server({
      async echo(_req: EchoRequest, ctx: HandlerContext) {
        deadline = ctx.deadline;
        ctx.signal.addEventListener("abort", () => aborted(ctx.signal.reason));
        await gate.pass();
        return {};
      },
    });
    const sent = Date.now();
    const err = await failure(createInProcessClient(s).unary(Echo, {}, { timeoutMs: 50 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(deadline).toBeGreaterThanOrEqual(sent + 50);
    expect(await abortedOnServer).toMatchObject({ code: Code.DeadlineExceeded });
    gate.open();
  });

  it("applies the frame limits of both sides", async () => {
    const s = server({ echo: async (req: EchoRequest) => ({ text: "y".repeat(Number(req.text)) }) }, { maxFrameBytes: 1024 });
    const client = createInProcessClient(s, { maxFrameBytes: 4096 });
    expect((await failure(client.unary(Echo, { blob: new Uint8Array(5000) }))).code).toBe(Code.OutOfRange);
    expect(await failure(client.unary(Echo, { text: "2000" }))).toMatchObject({ code: Code.OutOfRange, rawMessage: "response exceeds the maximum frame size" });
    expect((await client.unary(Echo, { text: "10" })).text).toBe("y".repeat(10));
  });

  it("fails with Unavailable once the server is closed", async () => {
    const s = server({ echo: async () => ({ text: "up" }) });
    const client = createInProcessClient(s);
    expect((await client.unary(Echo, {})).text).toBe("up");
    await s.close();
    expect(await failure(client.unary(Echo, {}))).toMatchObject({ code: Code.Unavailable });
  });

  it("refuses a server it cannot reach into", () => {
    const fake = { register: () => fake, use: () => fake, listen: () => Promise.resolve({ host: "", port: 0 }), address: () => undefined, close: () => Promise.resolve() };
    expect(() => createInProcessClient(fake)).toThrow("createInProcessClient: server must be made by createServer");
  });

  it("carries streams: messages in order, backpressure, cancellation, and Unavailable after the server's grace period", async () => {
    let produced = 0;
    let signal!: AbortSignal;
    const s = createServer({ logger: silentLogger, closeGraceMs: 20 });
    s.register(StreamService, {
      async *down(req: Item, ctx: HandlerContext) {
        signal = ctx.signal;
        const blob = new Uint8Array(8 * 1024);
        for (let n = 0; req.n === 0 || n < req.n; n++) {
          produced++;
          yield { n, blob };
        }
      },
    });
    const client = createInProcessClient(s);
    const got: number[] = [];
    for await (const item of client.serverStream(Down, { n: 100 })) got.push(item.n);
    expect(got).toEqual(Array.from({ length: 100 }, (_, n) => n));

    // A reader that stops: the producer stops after one window (8 messages of 8 KiB), then break cancels it.
    produced = 0;
    const it = client.serverStream(Down, {})[Symbol.asyncIterator]();
    await it.next();
    while (produced < 8) await new Promise((r) => setImmediate(r));
    await client.unary(method(EchoService, "Echo"), {}).catch(() => undefined);
    expect(produced).toBe(8);
    await it.return!();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve())));

    const open = client.serverStream(Down, { n: 0 })[Symbol.asyncIterator]();
    await open.next();
    const closing = s.close();
    await expect((async () => {
      for (;;) if ((await open.next()).done === true) return;
    })()).rejects.toMatchObject({ code: Code.Unavailable });
    await closing;
  });
});
