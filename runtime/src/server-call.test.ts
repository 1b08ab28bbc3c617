import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Code } from "./code.js";
import { protoCodec } from "./codec.js";
import { DeadlineWheel } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import type { FrameChannel } from "./frame-channel.js";
import type { HandlerContext } from "./handler-context.js";
import type { Interceptor, UnaryRequest } from "./interceptor.js";
import { silentLogger } from "./logger.js";
import type { Handler } from "./method-router.js";
import { ServerCall, type CallConnection } from "./server-call.js";
import { EchoRequestSchema, EchoService, method } from "./test-helpers/echo-service.js";

const Echo = method(EchoService, "Echo");

/** A call on a connection that records what it writes; `handler` and `interceptors` as given. */
function newCall(handler: Handler, interceptors: Interceptor[] = []) {
  const written: Buffer[] = [];
  const channel: FrameChannel = { closed: false, write: (f) => written.push(f), end: () => undefined, destroy: () => undefined, ref: () => undefined, unref: () => undefined };
  const connection: CallConnection = {
    server: { interceptors, logger: silentLogger, wheel: new DeadlineWheel(), config: { transport: { maxFrameBytes: 1 << 20 } } },
    peer: { address: "127.0.0.1", port: 1, certificate: undefined },
    channel,
    finished: () => undefined,
  };
  const head = { version: 0, serializeType: "protobuf", seq: 1, method: "/dora.test.v1.EchoService/Echo", meta: undefined, metaBytes: 0 };
  const call = new ServerCall(connection, 1, head, protoCodec, { kind: "unary", name: head.method, desc: Echo, handler }, { k: "v" }, undefined);
  return { call, written };
}

/** A handler that waits until `release` is called, then reports what `read` returns. */
function heldHandler<T>(read: (ctx: HandlerContext) => T) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let seen: T | undefined;
  const handler: Handler = async (_req, ctx) => {
    await released;
    seen = read(ctx);
    return {};
  };
  return { handler, release, seen: () => seen };
}

describe("ServerCall's signal, created only when read", () => {
  it("is already aborted, with the reason, when first read after the connection closed", async () => {
    const held = heldHandler((ctx) => ({ aborted: ctx.signal.aborted, reason: ctx.signal.reason as unknown }));
    const { call } = newCall(held.handler);
    const running = call.run(create(EchoRequestSchema, { text: "x" }));
    const reason = new DoraError(Code.Canceled, "connection closed");
    call.abort(reason);
    held.release();
    await running;
    expect(held.seen()).toEqual({ aborted: true, reason });
  });

  it("is already aborted with DeadlineExceeded when first read after the deadline passed, and the call answered DeadlineExceeded", async () => {
    const held = heldHandler((ctx) => (ctx.signal.reason as DoraError).code);
    const { call, written } = newCall(held.handler);
    const running = call.run(create(EchoRequestSchema, {}));
    call.expire();
    held.release();
    await running;
    expect(held.seen()).toBe(Code.DeadlineExceeded);
    expect(written).toHaveLength(1);
  });

  it("aborts a signal read before the connection closed, calling its listeners", async () => {
    const reasons: unknown[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const { call } = newCall(async (_req, ctx) => {
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      await released;
      return {};
    });
    const running = call.run(create(EchoRequestSchema, {}));
    await Promise.resolve();
    const reason = new DoraError(Code.Canceled, "connection closed");
    call.abort(reason);
    expect(reasons).toEqual([reason]);
    release();
    await running;
  });

  it("is the same signal and values for interceptors (their request) and the handler (its context)", async () => {
    let fromInterceptor: UnaryRequest | undefined;
    let fromHandler: HandlerContext | undefined;
    const see: Interceptor = (next) => (req) => {
      if (!req.stream) fromInterceptor = req;
      return next(req);
    };
    const { call } = newCall(async (_req, ctx) => {
      fromHandler = ctx;
      return {};
    }, [see]);
    await call.run(create(EchoRequestSchema, {}));
    expect(fromInterceptor!.signal).toBe(fromHandler!.signal);
    expect(fromInterceptor!.values).toBe(fromHandler!.values);
    expect(fromInterceptor!.meta).toEqual({ k: "v" });
    expect(fromInterceptor!.peer).toEqual({ address: "127.0.0.1", port: 1, certificate: undefined });
  });

  it("gives the handler the metadata and values of a changed copy an interceptor passed on", async () => {
    let meta: Readonly<Record<string, string>> | undefined;
    const addMeta: Interceptor = (next) => (req) => next({ ...req, meta: { ...req.meta, added: "1" } });
    const { call } = newCall(async (_req, ctx) => {
      meta = ctx.requestMeta;
      return {};
    }, [addMeta]);
    await call.run(create(EchoRequestSchema, {}));
    expect(meta).toEqual({ k: "v", added: "1" });
  });
});
