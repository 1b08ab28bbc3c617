import { randomUUID } from "node:crypto";
import { EventEmitter, once } from "node:events";
import net from "node:net";
import { decodeFields, decodePkg, encodeMessage, encodePkg, type DecodedPkg } from "./raw-dora-v2.js";

/**
 * Peers that behave on the wire as the original Go dora v2 does (its
 * `transport/nap` and `client`/`server` packages), written from bytes with no
 * dora or protobuf library, for interop tests (SPEC §3):
 *
 * - {@link GoDoraV2Client} sends what the original etclient sends: bare method
 *   names, `username`/`token` metadata on read and write (none on login), a
 *   frame header and its payload in two separate writes, stream ids and seqs
 *   from process-wide counters, and its keepalive: a PING on stream 0 after
 *   5 s without reading anything, and PING ACKs on stream 0.
 * - {@link GoDoraV2KvServer} answers as the original server does: bare names
 *   only, frames capped at 64 KiB (a larger declared length closes the
 *   connection; a larger answer is never sent), every request metadata entry
 *   echoed in the response, and `dora-status` and `dora-message` present on
 *   every answer, success included.
 */

/** dora v2's frame cap (Go `nap.MaxFrameSize`): 64 KiB. */
export const GO_MAX_FRAME_BYTES = 64 * 1024;
/** The Go client's and server's keepalive time: a PING after this long without reading, ms. */
export const GO_KEEPALIVE_TIME_MS = 5000;

const HEADER = 10;
const DATA = 0;
const PING = 1;
const ACK = 1;

/** One frame as it came off the wire. */
export interface RawFrame {
  readonly length: number;
  readonly stream: number;
  readonly type: number;
  readonly flags: number;
  readonly payload: Buffer;
  /** Header and payload, exactly as received. */
  readonly bytes: Buffer;
}

/** Encodes a 10-byte nap frame header. */
export function frameHeader(length: number, stream: number, type: number, flags: number): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(length, 0);
  header.writeUInt32BE(stream, 4);
  header.writeUInt8(type, 8);
  header.writeUInt8(flags, 9);
  return header;
}

/**
 * Splits a byte stream into frames. A declared length above `maxFrameBytes`
 * calls `onOversize` and stops reading (the Go peers close the connection:
 * they cannot resynchronise).
 */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  private stopped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (frame: RawFrame) => void,
    private readonly onOversize: (length: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= HEADER) {
      const length = this.buffer.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        this.stopped = true;
        this.onOversize(length);
        return;
      }
      if (this.buffer.length < HEADER + length) return;
      const bytes = Buffer.from(this.buffer.subarray(0, HEADER + length));
      this.buffer = this.buffer.subarray(HEADER + length);
      this.onFrame({ length, stream: bytes.readUInt32BE(4), type: bytes.readUInt8(8), flags: bytes.readUInt8(9), payload: bytes.subarray(HEADER), bytes });
    }
  }
}

// The Go client's counters are package-level atomics shared by every
// connection (`nap.streamID`, `client.atomicSeq`), so one connection sees
// stream ids with gaps; these are the same.
let goStreamId = 0;
let goSeq = 0n;

/** An answer as {@link GoDoraV2Client.call} returns it. */
export interface GoCallResult extends DecodedPkg {
  /** The stream id the answer came on. */
  readonly stream: number;
  /** The whole answer frame, header included. */
  readonly frame: Buffer;
  /** What was sent: its stream id, seq and whole frame. */
  readonly sent: { readonly stream: number; readonly seq: bigint; readonly frame: Buffer };
}

/** One connection of the original Go client (its pool holds one call per connection at a time). */
export class GoDoraV2Client extends EventEmitter {
  private readonly pending = new Map<number, (frame: RawFrame) => void>();
  private lastReadAt = performance.now();
  private pinging = false;
  private timer: NodeJS.Timeout | undefined;
  /** Every frame received, in order. */
  readonly received: RawFrame[] = [];
  /** Set when the connection closed (by either side). */
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    // Go's net.Conn writes each Write at once: keep the header and the payload
    // in separate segments, as the original sends them.
    socket.setNoDelay(true);
    const reader = new FrameReader(
      GO_MAX_FRAME_BYTES,
      (frame) => this.onFrame(frame),
      () => socket.destroy(),
    );
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.on("close", () => {
      this.closed = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.emit("close");
    });
    socket.on("error", () => undefined);
    this.armKeepalive(GO_KEEPALIVE_TIME_MS);
  }

  /** Dials `HOST:PORT` as the Go dialer does (plain TCP). */
  static async connect(address: string): Promise<GoDoraV2Client> {
    const colon = address.lastIndexOf(":");
    const socket = net.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    await once(socket, "connect");
    return new GoDoraV2Client(socket);
  }

  /**
   * One unary call as the Go client makes it: `Pkg{Head{version 0,
   * serialize_type "proto", seq, method, meta}, payload}` on a fresh stream id,
   * header and payload written separately; resolves with the answer on that
   * stream (rejects if the connection closes first).
   */
  call(method: string, meta: Record<string, string> | undefined, payload: Uint8Array): Promise<GoCallResult> {
    const stream = ++goStreamId;
    goSeq += 1n;
    const seq = goSeq;
    const pkg = encodePkg({ seq, method, ...(meta === undefined ? {} : { meta }) }, payload);
    const header = frameHeader(pkg.length, stream, DATA, 0);
    const sent = { stream, seq, frame: Buffer.concat([header, pkg]) };
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("connection closed"));
      const onClose = () => reject(new Error(`connection closed before the answer to ${method}`));
      this.once("close", onClose);
      this.pending.set(stream, (frame) => {
        this.off("close", onClose);
        resolve({ ...decodePkg(frame.payload), stream: frame.stream, frame: frame.bytes, sent });
      });
      this.socket.write(header);
      this.socket.write(pkg);
    });
  }

  /** Sends raw bytes (a hand-made frame). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Closes the connection. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.socket.destroy();
  }

  private onFrame(frame: RawFrame): void {
    this.lastReadAt = performance.now();
    this.received.push(frame);
    if (frame.type === PING) {
      if ((frame.flags & ACK) !== 0) {
        this.emit("ack", frame);
        return;
      }
      // The Go client answers with its shared ping frame, whose stream id is 0.
      this.emit("ping", frame);
      this.socket.write(frameHeader(0, 0, PING, ACK));
      return;
    }
    if (frame.type === DATA) {
      const resolve = this.pending.get(frame.stream);
      this.pending.delete(frame.stream);
      resolve?.(frame);
      return;
    }
    this.socket.destroy();
  }

  /**
   * The Go client's keepalive loop: when nothing was read for 5 s, send a
   * PING (stream 0, no flags) once, and not again until something was read.
   */
  private armKeepalive(ms: number): void {
    this.timer = setTimeout(() => {
      const idleMs = performance.now() - this.lastReadAt;
      if (idleMs < GO_KEEPALIVE_TIME_MS) {
        this.pinging = false;
        return this.armKeepalive(GO_KEEPALIVE_TIME_MS - idleMs);
      }
      if (!this.pinging) {
        this.pinging = true;
        this.socket.write(frameHeader(0, 0, PING, 0));
        this.emit("sent-ping");
      }
      this.armKeepalive(GO_KEEPALIVE_TIME_MS);
    }, Math.max(1, ms));
    this.timer.unref();
  }
}

/** A request the Go-like server saw. */
export interface SeenRequest extends DecodedPkg {
  /** The declared frame length. */
  readonly length: number;
}

/** Encodes kv.proto's `Status{code = 1, message = 2}` for a response's field 1, or nothing for OK. */
function statusField(code: number, message: string): [number, Uint8Array][] {
  return code === 0 ? [] : [[1, encodeMessage([[1, code], [2, message]])]];
}

/**
 * A stand-in for the original Go dora v2 etserver: the kv service with
 * etserver's rules for numeric users (password = username; a token per login;
 * keys per user), served the way the Go server frames its answers.
 */
export class GoDoraV2KvServer {
  /** Every request decoded, in arrival order. */
  readonly requests: SeenRequest[] = [];
  /** Declared lengths of frames refused for being over 64 KiB (each closed its connection). */
  readonly oversize: number[] = [];
  /** Connections accepted. */
  connections = 0;
  private readonly tokens = new Map<string, string>();
  private readonly values = new Map<string, string>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async start(): Promise<GoDoraV2KvServer> {
    const server = net.createServer();
    const peer = new GoDoraV2KvServer(server);
    server.on("connection", (socket) => peer.serve(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return peer;
  }

  /** `127.0.0.1:PORT`. */
  get address(): string {
    const address = this.server.address() as net.AddressInfo;
    return `127.0.0.1:${address.port}`;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    const reader = new FrameReader(
      GO_MAX_FRAME_BYTES,
      (frame) => {
        if (frame.type === PING) {
          if ((frame.flags & ACK) === 0) socket.write(frameHeader(0, 0, PING, ACK));
        } else if (frame.type === DATA) {
          const answer = this.answer(frame);
          // The Go server's Send refuses an answer over 64 KiB (ErrFrameTooLarge) and sends nothing.
          if (answer.length <= GO_MAX_FRAME_BYTES) socket.write(Buffer.concat([frameHeader(answer.length, frame.stream, DATA, 0), answer]));
        } else {
          socket.destroy();
        }
      },
      (length) => {
        this.oversize.push(length);
        socket.destroy();
      },
    );
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
  }

  private answer(frame: RawFrame): Uint8Array {
    const request = decodePkg(frame.payload);
    this.requests.push({ ...request, length: frame.length });
    const reply = (status: number, message: string, payload: Uint8Array = new Uint8Array()) =>
      encodePkg(
        { seq: request.seq, method: request.method, serializeType: request.serializeType, meta: { ...request.meta, "dora-status": String(status), "dora-message": message } },
        payload,
      );
    const fields = new Map(decodeFields(request.payload).map((f) => [f.number, f.value instanceof Uint8Array ? Buffer.from(f.value).toString("utf8") : ""]));
    switch (request.method) {
      case "Login": {
        const username = fields.get(1) ?? "";
        if (!/^\d+$/.test(username) || fields.get(2) !== username) {
          return reply(0, "Ok", encodeMessage(statusField(1000, "incorrect username or password")));
        }
        const token = randomUUID();
        this.tokens.set(username, token);
        return reply(0, "Ok", encodeMessage([[2, token]]));
      }
      case "WriteSecureMessage":
      case "ReadSecureMessage": {
        const username = request.meta["username"] ?? "";
        const token = request.meta["token"] ?? "";
        if (token === "" || this.tokens.get(username) !== token) return reply(6, "invalid token");
        const key = `${username}/${fields.get(1) ?? ""}`;
        if (request.method === "WriteSecureMessage") {
          this.values.set(key, fields.get(2) ?? "");
          return reply(0, "Ok", encodeMessage([[1, fields.get(1) ?? ""], [2, fields.get(2) ?? ""]]));
        }
        const value = this.values.get(key);
        return reply(0, "Ok", encodeMessage(value === undefined ? statusField(1001, "key does not exist") : [[2, value]]));
      }
      default:
        return reply(1, `method '${request.method}' is unimplemented`);
    }
  }
}
