import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type Client } from "./client.js";
import type { ClientOptions } from "./client-options.js";
import { Code } from "./code.js";
import { createContextKey, createContextValues } from "./context-values.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";
import type { Interceptor } from "./interceptor.js";
import { silentLogger, type Logger } from "./logger.js";
import { FRAME_DATA } from "./protocol/frame.js";
import { createServer, type Server } from "./server.js";
import type { ServerOptions } from "./server-options.js";
import { EchoService, OtherService, method, type EchoRequest } from "./test-helpers/echo-service.js";
import { closedPort, echoImpl, Gate, RawPeer, sleep, startEchoServer, startRawServer, within, type EchoServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const Fail = method(EchoService, "Fail");
const Shared = method(EchoService, "Shared");
const OtherShared = method(OtherService, "Shared");
const ECHO = "/dora.test.v1.EchoService/Echo";

const servers: Server[] = [];
const clients: Client[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function start(options: ServerOptions = {}, port = 0): Promise<EchoServer> {
  const echo = await startEchoServer({ closeGraceMs: 200, ...options }, port);
  servers.push(echo.server);
  return echo;
}

async function serve(register: (server: Server) => void, options: ServerOptions = {}): Promise<string> {
  const server = createServer({ logger: silentLogger, ...options });
  register(server);
  servers.push(server);
  const { port } = await server.listen();
  return `127.0.0.1:${port}`;
}

/** An echo server that records, per request text, the client port (connection) it arrived on. */
async function portRecordingServer(): Promise<{ address: string; portOf: Map<string, number> }> {
  const portOf = new Map<string, number>();
  const address = await serve((s) =>
    s.register(EchoService, {
      async echo(req: EchoRequest, ctx: HandlerContext) {
        portOf.set(req.text, ctx.peer.port);
        return { text: req.text };
      },
    }),
  );
  return { address, portOf };
}

function client(address: string | string[], options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ address, poolSize: 1, ...options });
  clients.push(c);
  return c;
}

async function rawServer(handlers: Parameters<typeof startRawServer>[0]) {
  const raw = await startRawServer(handlers);
  cleanups.push(raw.close);
  return raw;
}

/** A call's failure; fails the test when the call succeeds or rejects with something else. */
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

/** Far beyond any test: a call failing before it did not wait for its deadline. */
const NEVER_MS = 600_000;

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
    const order = gates.map((g, i) => [Math.sin(i * 7919), g] as const).sort((a, b) => a[0] - b[0]);
    for (const [, release] of order) release();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 1000 }, (_, i) => `call-${i}`));
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
    expect(new Set(answers.map((r) => r.text))).toEqual(new Set(["a", "b"]));
    expect(peersSeen.size).toBe(4);
  });

  it("sends the calls of one tick in turns of ⌈calls in flight / 4⌉ (1 to 8) per connection, each turn on the next connection", async () => {
    const { address, portOf } = await portRecordingServer();
    const c = client(address, { poolSize: 3 });
    // One tick: 20 calls from idle. Calls in flight when each turn starts: 0,1,2,3,4 (turns of 1), 5,7 (2), 9,12 (3), 15 (4), 19 (5, one call left).
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.unary(Echo, { text: `t${i}` })));
    const ports = Array.from({ length: 20 }, (_, i) => portOf.get(`t${i}`)!);
    const [a, b, d] = [ports[0]!, ports[1]!, ports[2]!];
    expect(new Set([a, b, d]).size).toBe(3);
    const turns: [number, number][] = [[1, a], [1, b], [1, d], [1, a], [1, b], [2, d], [2, a], [3, b], [3, d], [4, a], [1, b]];
    expect(ports).toEqual(turns.flatMap(([calls, port]) => Array<number>(calls).fill(port)));
    // Calls one after another, each in its own tick: round-robin, continuing after the last turn's connection.
    for (let i = 0; i < 4; i++) await c.unary(Echo, { text: `s${i}` });
    expect(Array.from({ length: 4 }, (_, i) => portOf.get(`s${i}`))).toEqual([d, a, b, d]);
  });

  it("gives a turn at most 8 calls however many are in flight", async () => {
    const { address, portOf } = await portRecordingServer();
    const c = client(address, { poolSize: 2 });
    // 200 calls in one tick: turns grow with the calls in flight; from 29 in flight on, every turn takes 8.
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.unary(Echo, { text: `t${i}` })));
    const ports = Array.from({ length: 200 }, (_, i) => portOf.get(`t${i}`)!);
    const runs: number[] = [];
    for (let i = 0; i < ports.length; i++) {
      if (i > 0 && ports[i] === ports[i - 1]) runs[runs.length - 1]!++;
      else runs.push(1);
    }
    expect(runs).toEqual([1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, ...Array<number>(21).fill(8), 2]);
  });

  it("connects lazily: no connection before the first call, then one for it", async () => {
    const accepted: net.Socket[] = [];
    let onAccept: () => void = () => {};
    const raw = await rawServer({
      speakDora: true,
      onConnection: (s) => {
        accepted.push(s);
        onAccept();
      },
      onFrame: (socket, frame) => frame.type === FRAME_DATA && socket.destroy(),
    });
    const c = client(raw.address, { poolSize: 3 });
    // A connection opened after the client was made is accepted after any the client opened (the backlog is FIFO).
    const firstAccepted = new Promise<void>((r) => (onAccept = r));
    const probe = net.connect({ host: "127.0.0.1", port: raw.port });
    probe.on("error", () => {});
    await firstAccepted;
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.remotePort).toBe(probe.localPort);
    probe.destroy();
    // The server closes the call's connection when it reads the call: it was accepted.
    expect((await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }))).code).toBe(Code.Unavailable);
    expect(accepted).toHaveLength(2);
  });
});

describe("deadlines and cancellation", () => {
  it("fails a call with DeadlineExceeded at its deadline without waiting for the handler, and aborts the handler's signal", async () => {
    const gate = new Gate();
    let handlerDeadline: number | undefined;
    let handlerNow = 0;
    let aborted!: (reason: unknown) => void;
    const abortedOnServer = new Promise<unknown>((r) => (aborted = r));
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          handlerNow = Date.now();
          handlerDeadline = ctx.deadline;
          ctx.signal.addEventListener("abort", () => aborted(ctx.signal.reason));
          await gate.pass(); // never opened: only the deadline ends this call
          return { text: "late" };
        },
      }),
    );
    const c = client(address);
    const sent = Date.now();
    const err = await failure(c.unary(Echo, {}, { timeoutMs: 150 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(gate.count).toBe(1);
    // SPEC §3.2: the handler gets the client's deadline (dora-timeout is the time left when sent).
    expect(handlerDeadline).toBeGreaterThanOrEqual(sent + 150);
    expect(handlerDeadline).toBeLessThanOrEqual(handlerNow + 150);
    expect(await abortedOnServer).toMatchObject({ code: Code.DeadlineExceeded });
    gate.open();
  });

  it("the server expires a call by the dora-timeout it received, even when the client keeps waiting", async () => {
    const echo = await start();
    const p = await RawPeer.connect(echo.port);
    try {
      p.call(1, ECHO, { text: "x", delayMs: NEVER_MS }, { "dora-timeout": "100" });
      expect(await p.answer(1)).toMatchObject({ code: Code.DeadlineExceeded, message: "deadline exceeded" });
    } finally {
      p.destroy();
    }
  });

  it("fails at once with Canceled when the caller aborts, and for an already-aborted signal; the late answer is dropped", async () => {
    const gate = new Gate();
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(req: EchoRequest) {
          if (req.text === "held") await gate.pass();
          return { text: req.text };
        },
      }),
    );
    const c = client(address);
    const controller = new AbortController();
    const pending = c.unary(Echo, { text: "held" }, { signal: controller.signal, timeoutMs: NEVER_MS });
    await gate.arrived(1);
    controller.abort();
    expect((await failure(pending)).code).toBe(Code.Canceled);
    expect((await failure(c.unary(Echo, {}, { signal: AbortSignal.abort() }))).code).toBe(Code.Canceled);
    gate.open();
    // The connection stays usable; the late answer is dropped.
    expect((await c.unary(Echo, { text: "next" })).text).toBe("next");
  });

  it("fails a call whose connection drops at once with Unavailable, not at its deadline", async () => {
    // The server answers the client's probe PING, then closes when the call arrives.
    const raw = await rawServer({ speakDora: true, onFrame: (socket, frame) => frame.type === FRAME_DATA && socket.end() });
    const c = client(raw.address);
    const err = await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe(`connection to ${raw.address} closed by the server`);
  });
});

describe("server close", () => {
  it("lets calls in flight finish, answers new calls Unavailable, then closes", async () => {
    const gate = new Gate();
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(req: EchoRequest) {
            if (req.text === "finishing") await gate.pass();
            return { text: req.text };
          },
        }),
      { closeGraceMs: NEVER_MS },
    );
    const c = client(address);
    const inflight = c.unary(Echo, { text: "finishing" }, { timeoutMs: NEVER_MS });
    await gate.arrived(1);
    const closed = servers[servers.length - 1]!.close();
    const late = await failure(c.unary(Echo, { text: "late" }));
    expect(late).toMatchObject({ code: Code.Unavailable, rawMessage: "server is shutting down" });
    gate.open();
    expect((await inflight).text).toBe("finishing");
    await closed;
  });

  it("closes connections after the grace period, aborting handlers and failing their calls with Unavailable", async () => {
    const gate = new Gate();
    let handlerAborted = false;
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(_req: EchoRequest, ctx: HandlerContext) {
            ctx.signal.addEventListener("abort", () => (handlerAborted = true));
            await gate.pass(); // never opened: the handler ignores its signal
            return {};
          },
        }),
      { closeGraceMs: 100 },
    );
    const c = client(address);
    const stuck = failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }));
    await gate.arrived(1);
    await servers[servers.length - 1]!.close();
    expect((await stuck).code).toBe(Code.Unavailable);
    expect(handlerAborted).toBe(true);
  });

  it("refuses new connections once closing", async () => {
    const echo = await start();
    await echo.server.close();
    const c = client(echo.address);
    expect((await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }))).code).toBe(Code.Unavailable);
  });
});

describe("reconnect", () => {
  it("the client reconnects after the server restarts on the same port", async () => {
    const first = await start();
    const c = client(first.address, { reconnectInitialMs: 50, reconnectMaxMs: 200 });
    expect((await c.unary(Echo, { text: "one" })).text).toBe("one");
    await first.server.close();
    expect((await failure(c.unary(Echo, { text: "down" }))).code).toBe(Code.Unavailable);
    await start({}, first.port);
    let answer: string | undefined;
    for (let i = 0; i < 200 && answer === undefined; i++) {
      answer = await c.unary(Echo, { text: "two" }).then(
        (r) => r.text,
        async () => {
          await sleep(50);
          return undefined;
        },
      );
    }
    expect(answer).toBe("two");
  });

  it("backs off after a failed connect: the next call fails fast with Unavailable naming the cause, without connecting", async () => {
    const port = await closedPort();
    const c = client(`127.0.0.1:${port}`, { reconnectInitialMs: NEVER_MS, reconnectMaxMs: NEVER_MS });
    const first = await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(first.code).toBe(Code.Unavailable);
    expect(first.rawMessage).toMatch(new RegExp(`^connection to 127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`));
    const second = await failure(c.unary(Echo, {}, { timeoutMs: NEVER_MS }));
    expect(second.rawMessage).toBe(`no connection available: ${first.rawMessage}`);
  });
});

describe("routing", () => {
  it("routes by fully-qualified name across several services", async () => {
    const echo = await start();
    const c = client(echo.address);
    expect((await c.unary(Shared, {})).text).toBe("echo.shared");
    expect((await c.unary(OtherShared, {})).text).toBe("other.shared");
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
    expect((await c.unary(Echo, { text: "bare" })).text).toBe("bare");
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
    const res = await c.unary(Echo, { text: "jsön", blob: new Uint8Array([1, 2]) });
    expect(res).toMatchObject({ text: "jsön", count: 9007199254740993n });
    expect(seenBytes).toBe("0102");
  });

  it("accepts a codec of the application's on both ends", async () => {
    const { jsonCodec } = await import("./codec.js");
    const custom = { name: "json-v2", encode: jsonCodec.encode, decode: jsonCodec.decode };
    const address = await serve((s) => s.register(EchoService, echoImpl), { codecs: [custom] });
    const c = client(address, { serializeType: "json-v2", codecs: [custom] });
    expect((await c.unary(Echo, { text: "custom" })).text).toBe("custom");
    const plain = client(address, { serializeType: "json" });
    expect((await plain.unary(Echo, { text: "plain" })).text).toBe("plain");
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
    let responseMeta: Readonly<Record<string, string>> = {};
    const res = await c.unary(Echo, {}, { meta: { "x-both": "call", "dora-timeout": "1" }, onResponseMeta: (m) => (responseMeta = m) });
    expect(res.text).toBe("ok");
    expect(seen).toEqual({ "x-client": "c1", "x-both": "call" });
    expect(responseMeta).toEqual({ "x-served-by": "unit" });
    let failMeta: Readonly<Record<string, string>> = {};
    const err = await failure(c.unary(Fail, {}, { onResponseMeta: (m) => (failMeta = m) }));
    expect(err).toMatchObject({ code: 40, rawMessage: "app failure", metadata: { "x-trace": "t1", "x-detail": "d" } });
    expect(failMeta).toEqual({ "x-trace": "t1", "x-detail": "d" });
  });

  it("answers BadRequest when request metadata exceeds maxMetadataBytes", async () => {
    const echo = await start({ maxMetadataBytes: 64 });
    const c = client(echo.address);
    expect((await c.unary(Echo, { text: "small" }, { meta: { a: "b" } })).text).toBe("small");
    const err = await failure(c.unary(Echo, {}, { meta: { big: "x".repeat(100) } }));
    expect(err).toMatchObject({ code: Code.BadRequest, rawMessage: "metadata exceeds 64 bytes" });
  });
});

describe("errors", () => {
  it("sends a thrown non-dora error as Unknown without its message, and logs its name, message and stack", async () => {
    const logged: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => logged.push({ msg, fields }) };
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo() {
            throw new TypeError("db password is hunter2");
          },
        }),
      { logger },
    );
    const err = await failure(client(address).unary(Echo, {}, { meta: { token: "secret-token" } }));
    expect(err.code).toBe(Code.Unknown);
    expect(err.rawMessage).toBe("unknown error");
    expect(JSON.stringify(err)).not.toContain("hunter2");
    expect(err.message).not.toContain("hunter2");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toBe("handler failed");
    expect(logged[0]!.fields).toMatchObject({ method: ECHO, error: { name: "TypeError", message: "db password is hunter2" } });
    expect((logged[0]!.fields!["error"] as { stack: string }).stack).toMatch(/^TypeError: db password is hunter2\n\s+at /);
    expect(JSON.stringify(logged)).not.toContain("secret-token");
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

describe("server logging (SPEC §4)", () => {
  it("a server made without a logger writes handler failures to stderr: name, message and stack, no request data", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const server = createServer();
    servers.push(server);
    server.register(EchoService, {
      async echo() {
        throw new RangeError("disk full");
      },
    });
    const { port } = await server.listen();
    await failure(client(`127.0.0.1:${port}`).unary(Echo, { text: "request-secret" }, { meta: { token: "meta-secret" } }));
    vi.restoreAllMocks();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\S+ ERROR handler failed \{.*"method":"\/dora\.test\.v1\.EchoService\/Echo".*"name":"RangeError","message":"disk full","stack":"RangeError: disk full\\n\s+at /);
    expect(lines[0]).not.toMatch(/request-secret|meta-secret/);
  });

  it("silentLogger turns that off", async () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const address = await serve((s) => s.register(EchoService, { echo: () => Promise.reject(new Error("quiet")) }), { logger: silentLogger });
    await failure(client(address).unary(Echo, {}));
    expect(write).not.toHaveBeenCalled();
  });
});

describe("peer", () => {
  it("is captured when the connection is accepted: a handler reads it after the client has gone", async () => {
    const gate = new Gate();
    let peer: { address: string; port: number } | undefined;
    let gone!: () => void;
    const handlerDone = new Promise<void>((r) => (gone = r));
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          await gate.pass(ctx.signal).catch(() => undefined);
          peer = { address: ctx.peer.address, port: ctx.peer.port };
          gone();
          return {};
        },
      }),
    );
    const p = await RawPeer.connect(Number(address.split(":")[1]));
    const localPort = p.socket.localPort;
    p.call(1, ECHO, {});
    await gate.arrived(1);
    p.destroy(); // the handler's signal aborts; the socket no longer knows its peer
    await handlerDone;
    expect(peer).toEqual({ address: "127.0.0.1", port: localPort });
  });
});

describe("limits", () => {
  it("answers ResourceExhausted beyond maxConcurrentCalls on one connection", async () => {
    const gate = new Gate();
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(req: EchoRequest) {
            if (req.text === "slow") await gate.pass();
            return { text: req.text };
          },
        }),
      { maxConcurrentCalls: 3 },
    );
    const c = client(address);
    const slow = [1, 2, 3].map(() => c.unary(Echo, { text: "slow" }, { timeoutMs: NEVER_MS }));
    await gate.arrived(3);
    const over = await failure(c.unary(Echo, {}));
    expect(over).toMatchObject({ code: Code.ResourceExhausted, rawMessage: "more than 3 calls in flight on this connection" });
    gate.open();
    await Promise.all(slow);
    expect((await c.unary(Echo, { text: "room again" })).text).toBe("room again");
  });

  it("fails a request larger than maxFrameBytes with OutOfRange before sending it", async () => {
    const echo = await start();
    const c = client(echo.address, { maxFrameBytes: 1024 });
    const err = await failure(c.unary(Echo, { blob: new Uint8Array(2000) }));
    expect(err.code).toBe(Code.OutOfRange);
    expect(err.rawMessage).toMatch(/exceeds the maximum frame size of 1024 bytes/);
    expect((await c.unary(Echo, { text: "fits" })).text).toBe("fits");
  });

  it("answers OutOfRange when the response would exceed the server's maxFrameBytes", async () => {
    const address = await serve((s) => s.register(EchoService, { echo: async () => ({ text: "y".repeat(5000) }) }), { maxFrameBytes: 1024 });
    const err = await failure(client(address).unary(Echo, {}));
    expect(err).toMatchObject({ code: Code.OutOfRange, rawMessage: "response exceeds the maximum frame size" });
  });

  it("carries a 3 MiB request and response under the default 4 MiB limit", async () => {
    const echo = await start();
    const c = client(echo.address);
    const res = await c.unary(Echo, { blob: new Uint8Array(3 * 1024 * 1024) });
    expect(res.count).toBe(BigInt(3 * 1024 * 1024));
  });
});

describe("interceptors", () => {
  it("server interceptors run in order, the first outermost, see the call, and can short-circuit", async () => {
    const trace: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (next) =>
      async (req) => {
        trace.push(`${name}>${req.method} peer=${req.peer?.address} meta=${req.meta["x-user"] ?? "-"} deadline=${req.deadline !== undefined}`);
        const res = await next(req);
        trace.push(`${name}<`);
        return res;
      };
    const gate: Interceptor = (next) => async (req) => {
      if (req.meta["x-user"] === undefined) throw new DoraError(Code.Unauthenticated, "who are you");
      return next(req);
    };
    const address = await serve((s) => s.register(EchoService, echoImpl).use(gate), { interceptors: [tag("outer"), tag("inner")] });
    const c = client(address);
    expect((await c.unary(Echo, { text: "in" }, { meta: { "x-user": "7" } })).text).toBe("in");
    expect(trace).toEqual([`outer>${ECHO} peer=127.0.0.1 meta=7 deadline=true`, `inner>${ECHO} peer=127.0.0.1 meta=7 deadline=true`, "inner<", "outer<"]);
    trace.length = 0;
    expect(await failure(c.unary(Echo, {}))).toMatchObject({ code: Code.Unauthenticated, rawMessage: "who are you" });
    expect(trace).toEqual([`outer>${ECHO} peer=127.0.0.1 meta=- deadline=true`, `inner>${ECHO} peer=127.0.0.1 meta=- deadline=true`]);
  });

  it("a server interceptor can change the request metadata the handler sees and add response metadata", async () => {
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(_req: EchoRequest, ctx: HandlerContext) {
            ctx.responseMeta["x-handler"] = "h";
            return { text: ctx.requestMeta["x-added"] ?? "none" };
          },
        }),
      {
        interceptors: [
          (next) => async (req) => {
            const res = await next({ ...req, meta: { ...req.meta, "x-added": "by interceptor" } });
            return { ...res, meta: { ...res.meta, "x-interceptor": "i" } };
          },
        ],
      },
    );
    let meta: Readonly<Record<string, string>> = {};
    const res = await client(address).unary(Echo, {}, { onResponseMeta: (m) => (meta = m) });
    expect(res.text).toBe("by interceptor");
    expect(meta).toEqual({ "x-handler": "h", "x-interceptor": "i" });
  });

  it("an interceptor hands a value to the handler through context values", async () => {
    const kCaller = createContextKey<string | undefined>(undefined, { description: "caller" });
    const auth: Interceptor = (next) => async (req) => {
      req.values.set(kCaller, `user-${req.meta["username"]}`);
      return next(req);
    };
    const address = await serve(
      (s) =>
        s.register(EchoService, {
          async echo(_req: EchoRequest, ctx: HandlerContext) {
            return { text: ctx.values.get(kCaller) ?? "anonymous" };
          },
        }),
      { interceptors: [auth] },
    );
    expect((await client(address).unary(Echo, {}, { meta: { username: "7" } })).text).toBe("user-7");
  });

  it("client interceptors run in order, can add metadata, read response metadata, read call values, and short-circuit", async () => {
    const trace: string[] = [];
    const kTrace = createContextKey("none");
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(_req: EchoRequest, ctx: HandlerContext) {
          ctx.responseMeta["x-echo"] = ctx.requestMeta["x-token"] ?? "";
          return { text: ctx.method };
        },
      }),
    );
    const first: Interceptor = (next) => async (req) => {
      trace.push(`first ${req.method} trace=${req.values.get(kTrace)}`);
      const res = await next({ ...req, meta: { ...req.meta, "x-token": "abc" } });
      trace.push(`first got ${res.meta["x-echo"]}`);
      return res;
    };
    const second: Interceptor = (next) => async (req) => {
      trace.push(`second ${req.meta["x-token"]}`);
      if (req.meta["x-block"] === "1") throw new DoraError(Code.PermissionDenied, "blocked locally");
      return next(req);
    };
    const c = client(address, { interceptors: [first, second] });
    expect((await c.unary(Echo, {}, { values: createContextValues().set(kTrace, "t-1") })).text).toBe(ECHO);
    expect(trace).toEqual([`first ${ECHO} trace=t-1`, "second abc", "first got abc"]);
    expect(await failure(c.unary(Echo, {}, { meta: { "x-block": "1" } }))).toMatchObject({ code: Code.PermissionDenied });
  });
});

describe("client lifecycle", () => {
  it("close lets calls in flight finish, then fails new calls with Unavailable", async () => {
    const gate = new Gate();
    const address = await serve((s) =>
      s.register(EchoService, {
        async echo(req: EchoRequest) {
          await gate.pass();
          return { text: req.text };
        },
      }),
    );
    const c = createClient({ address, poolSize: 1 });
    const inflight = c.unary(Echo, { text: "last" }, { timeoutMs: NEVER_MS });
    await gate.arrived(1);
    const closed = c.close();
    expect(await failure(c.unary(Echo, {}))).toMatchObject({ code: Code.Unavailable, rawMessage: "the client is closed" });
    gate.open();
    expect((await inflight).text).toBe("last");
    await closed;
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
    // Only a process that never exits is stopped: the bound is far above any normal run.
    const exited = await within(exit, 20_000);
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
