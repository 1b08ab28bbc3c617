/**
 * Test harness: an echo server on port 0, and a raw socket that speaks nap
 * frames by hand. Internal module (excluded from the build).
 */
import net from "node:net";
import { protoCodec } from "../codec.js";
import { Code } from "../code.js";
import { DoraError } from "../dora-error.js";
import type { HandlerContext } from "../handler-context.js";
import { silentLogger } from "../logger.js";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { pingFrame } from "../protocol/frame.js";
import { decodePkg, encodePkgFrame, type Head } from "../protocol/pkg.js";
import type { ReservedMeta } from "../protocol/reserved-meta.js";
import { createServer, type Server } from "../server.js";
import type { ServerOptions } from "../server-options.js";
import { EchoRequestSchema, EchoResponseSchema, EchoService, OtherService, type EchoRequest } from "./echo-service.js";

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The echo implementation: `echo` answers the text after `delayMs` (aborting
 * with the call's signal), with `count` = the blob length; `fail` throws a
 * DoraError whose code is `delayMs` and message is the text.
 */
export const echoImpl = {
  async echo(req: EchoRequest, ctx: HandlerContext) {
    if (req.delayMs > 0) await sleep(req.delayMs, ctx.signal);
    return { text: req.text, count: BigInt(req.blob.length) };
  },
  async fail(req: EchoRequest) {
    throw new DoraError(req.delayMs, req.text);
  },
  async shared() {
    return { text: "echo.shared" };
  },
};

/** A started echo server (EchoService + OtherService). */
export interface EchoServer {
  readonly server: Server;
  readonly port: number;
  readonly address: string;
}

/** Starts a server with EchoService and OtherService on 127.0.0.1, port 0 (silent unless given a logger). */
export async function startEchoServer(options: ServerOptions = {}, port = 0): Promise<EchoServer> {
  const server = createServer({ logger: silentLogger, ...options });
  server.register(EchoService, echoImpl);
  server.register(OtherService, { other: async () => ({ text: "other" }), shared: async () => ({ text: "other.shared" }) });
  const bound = await server.listen({ port });
  return { server, port: bound.port, address: `127.0.0.1:${bound.port}` };
}

/** A frame as received by a {@link RawPeer}. */
export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A plain socket speaking nap frames by hand, recording what it receives. */
export class RawPeer {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    const decoder = new FrameDecoder(64 * 1024 * 1024, (type, flags, streamId, payload) => {
      this.frames.push({ type, flags, streamId, payload: Buffer.from(payload) });
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("data", (chunk: Buffer) => decoder.push(chunk));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(new RawPeer(socket)));
      socket.once("error", reject);
    });
  }

  /** True once the socket has closed. */
  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === "closed";
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends an Echo-style request (`EchoRequest` encoded with proto, seq = stream id) on `streamId`; `dora-` keys of `meta` are sent as given. */
  call(streamId: number, method: string, request: Partial<EchoRequest> = {}, meta?: Record<string, string>): void {
    const reserved = meta === undefined ? undefined : (Object.fromEntries(Object.entries(meta).filter(([k]) => k.startsWith("dora-"))) as ReservedMeta);
    this.write(encodePkgFrame(streamId, { version: 0, serializeType: "proto", seq: streamId, method }, meta, reserved, protoCodec.encode(EchoRequestSchema, request as never)));
  }

  /** Waits for a frame matching `pred`. */
  async next(pred: (f: RawFrame) => boolean = () => true, timeoutMs = 5000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(pred);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error("no matching frame arrived");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the answer on `streamId` and decodes its head and, when Ok, its EchoResponse. */
  async answer(streamId: number): Promise<{ head: Head; code: number; message: string; text: string | undefined }> {
    const frame = await this.next((f) => f.type === 0 && f.streamId === streamId);
    const pkg = decodePkg(frame.payload);
    const head = pkg.head!;
    const code = Number(head.meta?.["dora-status"] ?? Code.Ok);
    const text = code === Code.Ok ? (protoCodec.decode(EchoResponseSchema, pkg.payload) as unknown as { text: string }).text : undefined;
    return { head, code, message: head.meta?.["dora-message"] ?? "", text };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Waits until `promise` settles or `ms` passes; true when it settled. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([promise.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return settled;
}

/**
 * A gate for handlers: each `pass()` counts an arrival and waits until the
 * test opens the gate (or the call's signal aborts). Tests order events by
 * arrivals, never by sleeping.
 */
export class Gate {
  private arrivals = 0;
  private readonly watchers: Array<{ n: number; resolve: () => void }> = [];
  private release!: () => void;
  private readonly opened = new Promise<void>((r) => (this.release = r));

  /** Arrivals so far. */
  get count(): number {
    return this.arrivals;
  }

  /** Called by a handler: counts its arrival, then waits for `open()`; rejects with the signal's reason when it aborts first. */
  pass(signal?: AbortSignal): Promise<void> {
    this.arrivals++;
    for (const w of [...this.watchers]) {
      if (this.arrivals >= w.n) {
        this.watchers.splice(this.watchers.indexOf(w), 1);
        w.resolve();
      }
    }
    if (signal === undefined) return this.opened;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      void this.opened.then(resolve);
    });
  }

  /** Resolves once `n` handlers have arrived. */
  arrived(n = 1): Promise<void> {
    if (this.arrivals >= n) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ n, resolve }));
  }

  /** Lets every waiting and future handler through. */
  open(): void {
    this.release();
  }
}

/** The port of a local TCP port that nothing listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A raw TCP server for client tests. `onConnection` gets each socket; with
 * `speakDora`, PINGs are answered with a PING ACK (as every dora peer does),
 * so the client's probe succeeds and only what `onFrame` does differs.
 */
export async function startRawServer(handlers: {
  onConnection?: (socket: net.Socket) => void;
  speakDora?: boolean;
  onFrame?: (socket: net.Socket, frame: RawFrame) => void;
}): Promise<{ server: net.Server; port: number; address: string; sockets: net.Socket[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    if (handlers.speakDora === true || handlers.onFrame !== undefined) {
      const decoder = new FrameDecoder(64 * 1024 * 1024, (type, flags, streamId, payload) => {
        if (handlers.speakDora === true && type === 1 && (flags & 1) === 0) socket.write(pingFrame(streamId, true));
        handlers.onFrame?.(socket, { type, flags, streamId, payload: Buffer.from(payload) });
      });
      socket.on("data", (chunk: Buffer) => {
        try {
          decoder.push(chunk);
        } catch {
          socket.destroy();
        }
      });
    }
    handlers.onConnection?.(socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
