/**
 * Test harness: an echo server on port 0, and a raw socket that speaks nap
 * frames by hand. Internal module (excluded from the build).
 */
import net from "node:net";
import { protoCodec } from "../codec.js";
import { Code } from "../code.js";
import { DoraError } from "../dora-error.js";
import { FrameDecoder } from "../frame.js";
import type { HandlerContext } from "../context.js";
import { decodePkg, encodePkgFrame, type Head } from "../pkg.js";
import { createServer, type Server, type ServerOptions } from "../server.js";
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

/** Starts a server with EchoService and OtherService on 127.0.0.1, port 0. */
export async function startEchoServer(options: ServerOptions = {}, port = 0): Promise<EchoServer> {
  const server = createServer(options);
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

  /** Sends an Echo-style request (`EchoRequest` encoded with proto) on `streamId`. */
  call(streamId: number, method: string, request: Partial<EchoRequest> = {}, meta?: Record<string, string>): void {
    this.write(encodePkgFrame(streamId, 0, "proto", streamId, method, meta, protoCodec.encode(EchoRequestSchema, request as never)));
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
