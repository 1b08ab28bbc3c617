import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Client, type ClientOptions } from "./client.js";
import { Code } from "./code.js";
import type { HandlerContext } from "./context.js";
import { DoraError } from "./dora-error.js";
import type { ClientInterceptor, ServerInterceptor } from "./interceptor.js";
import type { Logger } from "./logger.js";
import { createServer, type Server, type ServerOptions } from "./server.js";
import { EchoService, OtherService, method, type EchoRequest, type EchoResponse } from "./test-helpers/echo-service.js";
import { echoImpl, sleep, startEchoServer, within, type EchoServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const Fail = method(EchoService, "Fail");
const Shared = method(EchoService, "Shared");
const OtherShared = method(OtherService, "Shared");
const ECHO = "/dora.test.v1.EchoService/Echo";

const servers: Server[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: ServerOptions = {}, port = 0): Promise<EchoServer> {
  const echo = await startEchoServer({ closeGraceMs: 200, ...options }, port);
  servers.push(echo.server);
  return echo;
}

async function serve(register: (server: Server) => void, options: ServerOptions = {}): Promise<string> {
  const server = createServer(options);
  register(server);
  servers.push(server);
  const { port } = await server.listen();
  return `127.0.0.1:${port}`;
}

function client(address: string | string[], options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ address, poolSize: 1, ...options });
  clients.push(c);
  return c;
}

const text = (res: unknown): string => (res as EchoResponse).text;
const failure = (p: Promise<unknown>): Promise<DoraError> =>
  p.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(DoraError);
      return e as DoraError;
    },
  );

describe("multiplexing", () => {
  it("answers 1,000 concurrent calls on one connection out of order, each to its caller", async () => {
    const gates: Array<() => void> = [];
    let arrived = 0;
    let allArrived!: () => void;
    const ready = new Promise<void>((r) => (allArrived = r));
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(req: EchoRequest) {
          await new Promise<void>((r) => {
            gates.push(r);
            if (++arrived === 1000) allArrived();
          });
          return { text: req.text };
        },
      }),
    );
    const c = client(address, { poolSize: 1 });
    const calls = Array.from({ length: 1000 }, (_, i) => c.unary(Echo, { text: `call-${i}` }));
    await ready;
    // Release the handlers in a shuffled order.
    const order = gates.map((g, i) => [Math.sin(i * 7919) , g] as const).sort((a, b) => a[0] - b[0]);
    for (const [, release] of order) release();
    const results = await Promise.all(calls);
    expect(results.map(text)).toEqual(Array.from({ length: 1000 }, (_, i) => `call-${i}`));
  });

  it("spreads calls over every connection of the pool and every address", async () => {
    const peersSeen = new Set<string>();
    const register = (s: Server, name: string) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          peersSeen.add(`${name}:${ctx.peer.port}`);
          return { text: name };
        },
      });
    const a = await serve((s) => register(s, "a"));
    const b = await serve((s) => register(s, "b"));
    const c = client([a, b], { poolSize: 4 });
    const answers = await Promise.all(Array.from({ length: 40 }, () => c.unary(Echo, {})));
    expect(new Set(answers.map(text))).toEqual(new Set(["a", "b"]));
    expect(peersSeen.size).toBe(4);
  });

  it("connects lazily: no connection before the first call", async () => {
    let accepted = 0;
    const server = net.createServer((s) => {
      accepted++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const c = client(`127.0.0.1:${(server.address() as net.AddressInfo).port}`, { poolSize: 3 });
      await sleep(100);
      expect(accepted).toBe(0);
      await c.unary(Echo, {}).catch(() => undefined);
      await sleep(50);
      expect(accepted).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("deadlines and cancellation", () => {
  it("fails a call with DeadlineExceeded at its deadline on the client, and aborts the handler's signal on the server", async () => {
    let handlerSignal: AbortSignal | undefined;
    let handlerDeadline: number | undefined;
    let aborted!: (reason: unknown) => void;
    const abortedOnServer = new Promise<unknown>((r) => (aborted = r));
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          handlerSignal = ctx.signal;
          handlerDeadline = ctx.deadline;
          ctx.signal.addEventListener("abort", () => aborted(ctx.signal.reason));
          await sleep(5000, ctx.signal);
          return { text: "late" };
        },
      }),
    );
    const c = client(address);
    const sent = Date.now();
    const err = await failure(c.unary(Echo, {}, { timeoutMs: 150 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - sent).toBeLessThan(4000);
    expect(handlerDeadline).toBeGreaterThanOrEqual(sent + 150);
    expect(handlerDeadline).toBeLessThan(sent + 150 + 1000);
    expect(await abortedOnServer).toMatchObject({ code: Code.DeadlineExceeded });
    expect(handlerSignal?.aborted).toBe(true);
  });

  it("the server expires a call by the dora-timeout it received, even when the client keeps waiting", async () => {
    const echo = await start();
    const { RawPeer } = await import("./test-helpers/harness.js");
    const p = await RawPeer.connect(echo.port);
    try {
      p.call(1, ECHO, { text: "x", delayMs: 3000 }, { "dora-timeout": "100" });
      expect(await p.answer(1)).toMatchObject({ code: Code.DeadlineExceeded, message: "deadline exceeded" });
    } finally {
      p.destroy();
    }
  });

  it("fails at once with Canceled when the caller aborts, and for an already-aborted signal", async () => {
    const echo = await start();
    const c = client(echo.address);
    const controller = new AbortController();
    const pending = c.unary(Echo, { delayMs: 3000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    expect((await failure(pending)).code).toBe(Code.Canceled);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await failure(c.unary(Echo, {}, { signal: AbortSignal.abort() }))).code).toBe(Code.Canceled);
    // The connection stays usable; the late answer is dropped.
    expect(text(await c.unary(Echo, { text: "next" }))).toBe("next");
  });

  it("fails a call whose connection drops at once with Unavailable, not at its deadline", async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.on("data", () => s.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const c = client(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      const started = Date.now();
      const err = await failure(c.unary(Echo, {}, { timeoutMs: 10_000 }));
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toMatch(/^connection to 127\.0\.0\.1:\d+ closed/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("server close", () => {
  it("lets calls in flight finish, answers new calls Unavailable, then closes", async () => {
    const echo = await start({ closeGraceMs: 3000 });
    const c = client(echo.address);
    const inflight = c.unary(Echo, { text: "finishing", delayMs: 300 });
    await sleep(50);
    const closed = echo.server.close();
    await sleep(20);
    const late = await failure(c.unary(Echo, { text: "late" }));
    expect(late.code).toBe(Code.Unavailable);
    expect(text(await inflight)).toBe("finishing");
    expect(await within(closed, 3000)).toBe(true);
  });

  it("closes connections after the grace period, aborting handlers and failing their calls with Unavailable", async () => {
    let handlerAborted = false;
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(_req: EchoRequest, ctx: HandlerContext) {
            ctx.signal.addEventListener("abort", () => (handlerAborted = true));
            await sleep(10_000, ctx.signal).catch(() => undefined);
            return {};
          },
        }),
      { closeGraceMs: 100 },
    );
    const c = client(address);
    const stuck = failure(c.unary(Echo, {}, { timeoutMs: 10_000 }));
    await sleep(50);
    const started = Date.now();
    await servers[servers.length - 1]!.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await stuck).code).toBe(Code.Unavailable);
    expect(handlerAborted).toBe(true);
  });

  it("refuses new connections once closing", async () => {
    const echo = await start();
    await echo.server.close();
    const c = client(echo.address, { connectTimeoutMs: 1000 });
    expect((await failure(c.unary(Echo, {}))).code).toBe(Code.Unavailable);
  });
});

describe("reconnect", () => {
  it("the client reconnects after the server restarts on the same port", async () => {
    const first = await start();
    const c = client(first.address, { reconnectInitialMs: 50, reconnectMaxMs: 200 });
    expect(text(await c.unary(Echo, { text: "one" }))).toBe("one");
    await first.server.close();
    expect((await failure(c.unary(Echo, { text: "down" }))).code).toBe(Code.Unavailable);
    await start({}, first.port);
    let answer: string | undefined;
    for (let i = 0; i < 50 && answer === undefined; i++) {
      answer = await c.unary(Echo, { text: "two" }).then(text, async () => {
        await sleep(50);
        return undefined;
      });
    }
    expect(answer).toBe("two");
  });

  it("backs off after a failed connect: calls fail fast with Unavailable naming the cause", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const c = client(`127.0.0.1:${port}`, { reconnectInitialMs: 60_000 });
    const first = await failure(c.unary(Echo, {}));
    expect(first.code).toBe(Code.Unavailable);
    expect(first.rawMessage).toMatch(/ECONNREFUSED/);
    const started = Date.now();
    const second = await failure(c.unary(Echo, {}));
    expect(second.rawMessage).toMatch(/^no connection available: failed: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("routing", () => {
  it("routes by fully-qualified name across several services", async () => {
    const echo = await start();
    const c = client(echo.address);
    expect(text(await c.unary(Shared, {}))).toBe("echo.shared");
    expect(text(await c.unary(OtherShared, {}))).toBe("other.shared");
  });

  it("sends bare method names when told to, and the server resolves an unambiguous one", async () => {
    let seen = "";
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(req: EchoRequest, ctx: HandlerContext) {
          seen = ctx.method;
          return { text: req.text };
        },
      }),
    );
    const c = client(address, { bareMethodNames: true });
    expect(text(await c.unary(Echo, { text: "bare" }))).toBe("bare");
    expect(seen).toBe(ECHO);
  });

  it("answers Unimplemented for a bare name two services define, and for a method the implementation lacks", async () => {
    const echo = await start();
    const c = client(echo.address, { bareMethodNames: true });
    const ambiguous = await failure(c.unary(Shared, {}));
    expect(ambiguous).toMatchObject({ code: Code.Unimplemented, rawMessage: 'method name "Shared" is ambiguous' });
    const address = await serve((s) => s.register(EchoService, {}));
    const missing = await failure(client(address).unary(Echo, {}));
    expect(missing).toMatchObject({ code: Code.Unimplemented, rawMessage: `method ${ECHO} is not implemented` });
  });
});

describe("codecs on the wire", () => {
  it("calls with the json codec end to end, and the server answers in the request's codec", async () => {
    let seenBytes = "";
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(req: EchoRequest) {
          seenBytes = Buffer.from(req.blob).toString("hex");
          return { text: req.text, count: 9007199254740993n };
        },
      }),
    );
    const c = client(address, { serializeType: "json" });
    const res = (await c.unary(Echo, { text: "jsön", blob: new Uint8Array([1, 2]) })) as EchoResponse;
    expect(res).toMatchObject({ text: "jsön", count: 9007199254740993n });
    expect(seenBytes).toBe("0102");
  });

  it("accepts a codec of the application's on both ends", async () => {
    const { jsonCodec } = await import("./codec.js");
    const custom = { name: "json-v2", encode: jsonCodec.encode, decode: jsonCodec.decode };
    const address = await serve((s) => s.register(EchoService, echoImpl), { codecs: [custom] });
    const c = client(address, { serializeType: "json-v2", codecs: [custom] });
    expect(text(await c.unary(Echo, { text: "custom" }))).toBe("custom");
    const plain = client(address, { serializeType: "json" });
    expect(text(await plain.unary(Echo, { text: "plain" }))).toBe("plain");
  });
});

describe("metadata", () => {
  it("carries metadata both ways, without the framework's dora- keys", async () => {
    let seen: Record<string, string> = {};
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          seen = { ...ctx.requestMeta };
          ctx.responseMeta["x-served-by"] = "unit";
          ctx.responseMeta["dora-status"] = "5";
          return { text: "ok" };
        },
        async fail(_req: EchoRequest, ctx: HandlerContext) {
          ctx.responseMeta["x-trace"] = "t1";
          throw new DoraError(40, "app failure", { metadata: { "x-detail": "d" } });
        },
      }),
    );
    const c = client(address, { meta: { "x-client": "c1", "x-both": "client" } });
    let responseMeta: Record<string, string> = {};
    const res = await c.unary(Echo, {}, { meta: { "x-both": "call", "dora-timeout": "1" }, onResponseMeta: (m) => (responseMeta = m) });
    expect(text(res)).toBe("ok");
    expect(seen).toEqual({ "x-client": "c1", "x-both": "call" });
    expect(responseMeta).toEqual({ "x-served-by": "unit" });
    let failMeta: Record<string, string> = {};
    const err = await failure(c.unary(Fail, {}, { onResponseMeta: (m) => (failMeta = m) }));
    expect(err).toMatchObject({ code: 40, rawMessage: "app failure", metadata: { "x-trace": "t1", "x-detail": "d" } });
    expect(failMeta).toEqual({ "x-trace": "t1", "x-detail": "d" });
  });

  it("answers BadRequest when request metadata exceeds maxMetadataBytes", async () => {
    const echo = await start({ maxMetadataBytes: 64 });
    const c = client(echo.address);
    expect(text(await c.unary(Echo, { text: "small" }, { meta: { a: "b" } }))).toBe("small");
    const err = await failure(c.unary(Echo, {}, { meta: { big: "x".repeat(100) } }));
    expect(err).toMatchObject({ code: Code.BadRequest, rawMessage: "metadata exceeds 64 bytes" });
  });
});

describe("errors", () => {
  it("sends a thrown non-dora error as Unknown without its message, and logs the detail", async () => {
    const logged: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => logged.push({ msg, fields }) };
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo() {
            throw new Error("db password is hunter2");
          },
        }),
      { logger },
    );
    const err = await failure(client(address).unary(Echo, {}));
    expect(err.code).toBe(Code.Unknown);
    expect(err.rawMessage).toBe("unknown error");
    expect(JSON.stringify(err)).not.toContain("hunter2");
    expect(err.message).not.toContain("hunter2");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toBe("handler failed");
    expect((logged[0]!.fields!["error"] as Error).message).toBe("db password is hunter2");
  });

  it("keeps a DoraError's code and message, including application codes above 20", async () => {
    const echo = await start();
    const c = client(echo.address);
    expect(await failure(c.unary(Fail, { delayMs: Code.NotFound, text: "no such key" }))).toMatchObject({ code: Code.NotFound, rawMessage: "no such key" });
    expect(await failure(c.unary(Fail, { delayMs: 1042, text: "quota" }))).toMatchObject({ code: 1042, rawMessage: "quota" });
  });

  it("answers Internal when the handler's response cannot be encoded", async () => {
    const address = await serve((s) => s.register(EchoService, { echo: async () => ({ count: "not a bigint" as unknown as bigint }) }));
    const err = await failure(client(address).unary(Echo, {}));
    expect(err).toMatchObject({ code: Code.Internal, rawMessage: "cannot encode the response" });
  });
});

describe("limits", () => {
  it("answers ResourceExhausted beyond maxConcurrentCalls on one connection", async () => {
    const echo = await start({ maxConcurrentCalls: 3 });
    const c = client(echo.address);
    const slow = [1, 2, 3].map(() => c.unary(Echo, { delayMs: 300 }));
    await sleep(50);
    const over = await failure(c.unary(Echo, {}));
    expect(over).toMatchObject({ code: Code.ResourceExhausted, rawMessage: "more than 3 calls in flight on this connection" });
    await Promise.all(slow);
    expect(text(await c.unary(Echo, { text: "room again" }))).toBe("room again");
  });

  it("fails a request larger than maxFrameBytes with OutOfRange before sending it", async () => {
    const echo = await start();
    const c = client(echo.address, { maxFrameBytes: 1024 });
    const err = await failure(c.unary(Echo, { blob: new Uint8Array(2000) }));
    expect(err.code).toBe(Code.OutOfRange);
    expect(err.rawMessage).toMatch(/exceeds the maximum frame size of 1024 bytes/);
    expect(text(await c.unary(Echo, { text: "fits" }))).toBe("fits");
  });

  it("answers OutOfRange when the response would exceed the server's maxFrameBytes", async () => {
    const address = await serve((s) => s.register(EchoService, { echo: async () => ({ text: "y".repeat(5000) }) }), { maxFrameBytes: 1024 });
    const err = await failure(client(address).unary(Echo, {}));
    expect(err).toMatchObject({ code: Code.OutOfRange, rawMessage: "response exceeds the maximum frame size" });
  });

  it("carries a 3 MiB request and response under the default 4 MiB limit", async () => {
    const echo = await start();
    const c = client(echo.address);
    const res = (await c.unary(Echo, { blob: new Uint8Array(3 * 1024 * 1024) })) as EchoResponse;
    expect(res.count).toBe(BigInt(3 * 1024 * 1024));
  });
});

describe("interceptors", () => {
  it("server interceptors run in order, the first outermost, see the call, and can short-circuit", async () => {
    const trace: string[] = [];
    const tag =
      (name: string): ServerInterceptor =>
      (next) =>
      async (req, ctx) => {
        trace.push(`${name}>${ctx.method} peer=${ctx.peer.address} meta=${ctx.requestMeta["x-user"] ?? "-"} deadline=${ctx.deadline !== undefined}`);
        const res = await next(req, ctx);
        trace.push(`${name}<`);
        return res;
      };
    const gate: ServerInterceptor = (next) => async (req, ctx) => {
      if (ctx.requestMeta["x-user"] === undefined) throw new DoraError(Code.Unauthenticated, "who are you");
      return next(req, ctx);
    };
    const address = await serve((s) => s.register(EchoService, echoImpl).use(gate), { interceptors: [tag("outer"), tag("inner")] });
    const c = client(address);
    expect(text(await c.unary(Echo, { text: "in" }, { meta: { "x-user": "7" } }))).toBe("in");
    expect(trace).toEqual([`outer>${ECHO} peer=127.0.0.1 meta=7 deadline=true`, `inner>${ECHO} peer=127.0.0.1 meta=7 deadline=true`, "inner<", "outer<"]);
    trace.length = 0;
    expect(await failure(c.unary(Echo, {}))).toMatchObject({ code: Code.Unauthenticated, rawMessage: "who are you" });
    expect(trace).toEqual([`outer>${ECHO} peer=127.0.0.1 meta=- deadline=true`, `inner>${ECHO} peer=127.0.0.1 meta=- deadline=true`]);
  });

  it("client interceptors run in order, can add metadata, read response metadata, and short-circuit", async () => {
    const trace: string[] = [];
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          ctx.responseMeta["x-echo"] = ctx.requestMeta["x-token"] ?? "";
          return { text: ctx.method };
        },
      }),
    );
    const first: ClientInterceptor = (next) => async (req) => {
      trace.push(`first ${req.method}`);
      const res = await next({ ...req, meta: { ...req.meta, "x-token": "abc" } });
      trace.push(`first got ${res.meta["x-echo"]}`);
      return res;
    };
    const second: ClientInterceptor = (next) => async (req) => {
      trace.push(`second ${req.meta["x-token"]}`);
      if (req.meta["x-block"] === "1") throw new DoraError(Code.PermissionDenied, "blocked locally");
      return next(req);
    };
    const c = client(address, { interceptors: [first, second] });
    expect(text(await c.unary(Echo, {}))).toBe(ECHO);
    expect(trace).toEqual([`first ${ECHO}`, "second abc", "first got abc"]);
    expect(await failure(c.unary(Echo, {}, { meta: { "x-block": "1" } }))).toMatchObject({ code: Code.PermissionDenied });
  });
});

describe("client lifecycle", () => {
  it("close lets calls in flight finish, then fails new calls with Unavailable", async () => {
    const echo = await start();
    const c = createClient({ address: echo.address, poolSize: 1 });
    const inflight = c.unary(Echo, { text: "last", delayMs: 100 });
    await sleep(20);
    const closed = c.close();
    expect(await failure(c.unary(Echo, {}))).toMatchObject({ code: Code.Unavailable, rawMessage: "the client is closed" });
    expect(text(await inflight)).toBe("last");
    expect(await within(closed, 3000)).toBe(true);
  });

  async function runScript(address: string, tail: string): Promise<{ exited: boolean; code: number | null; out: string }> {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `
      import { createClient } from ${JSON.stringify(path.resolve(here, "../dist/index.js"))};
      import { EmptySchema } from "@bufbuild/protobuf/wkt";
      const c = createClient({ address: ${JSON.stringify(address)}, poolSize: 2, keepaliveTimeMs: 60000 });
      // A method the server lacks still makes a full round trip over a pooled connection.
      const method = { name: "Nope", parent: { typeName: "dora.test.v1.EchoService" }, input: EmptySchema, output: EmptySchema };
      try { await c.unary(method, {}); } catch (e) { console.log(e.code); }
      ${tail}
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: path.resolve(here, "..") });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.once("exit", r));
    const exited = await within(exit, 8000);
    if (!exited) child.kill("SIGKILL");
    return { exited, code: await exit, out: out.trim() };
  }

  it("a process holding only an idle client exits by itself once its work is done", async () => {
    const echo = await start();
    const result = await runScript(echo.address, "");
    expect(result).toEqual({ exited: true, code: 0, out: String(Code.Unimplemented) });
  });

  it("a process awaiting client.close() stays alive until the close completes, then exits", async () => {
    const echo = await start();
    const result = await runScript(echo.address, `await c.close(); console.log("closed");`);
    expect(result).toEqual({ exited: true, code: 0, out: `${Code.Unimplemented}\nclosed` });
  });
});
