import net from "node:net";

/**
 * A dora v2 peer written by hand from SPEC §3: 10-byte frame headers and a
 * hand-rolled protobuf encoding of `Pkg`, with no dora or protobuf library,
 * to prove etserver answers a Go dora v2 client byte for byte.
 */

function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

function field(number: number, wireType: 0 | 2, body: Uint8Array | bigint | number): Buffer {
  const tag = varint((number << 3) | wireType);
  if (wireType === 0) return Buffer.concat([tag, varint(body as number | bigint)]);
  const bytes = body as Uint8Array;
  return Buffer.concat([tag, varint(bytes.length), bytes]);
}

/** Encodes a message whose fields are all strings (e.g. LoginRequest: 1 username, 2 password). */
export function encodeStrings(fields: Record<number, string>): Uint8Array {
  return encodeMessage(Object.entries(fields).map(([number, value]) => [Number(number), value] as const));
}

/**
 * Encodes a message from `[field number, value]` pairs in order: strings and
 * bytes as length-delimited fields, numbers and bigints as varints.
 */
export function encodeMessage(fields: readonly (readonly [number, string | Uint8Array | number | bigint])[]): Uint8Array {
  return Buffer.concat(
    fields.map(([number, value]) =>
      typeof value === "number" || typeof value === "bigint" ? field(number, 0, value) : field(number, 2, typeof value === "string" ? Buffer.from(value, "utf8") : value),
    ),
  );
}

/** Encodes `Pkg{head: Head{version 0, serialize_type, seq, method, meta}, payload}`. */
export function encodePkg(head: { seq: number | bigint; method: string; meta?: Record<string, string>; serializeType?: string }, payload: Uint8Array): Uint8Array {
  const h: Buffer[] = [field(2, 2, Buffer.from(head.serializeType ?? "proto")), field(3, 0, head.seq), field(4, 2, Buffer.from(head.method))];
  for (const [key, value] of Object.entries(head.meta ?? {})) h.push(field(5, 2, Buffer.concat([field(1, 2, Buffer.from(key)), field(2, 2, Buffer.from(value))])));
  return Buffer.concat([field(1, 2, Buffer.concat(h)), field(2, 2, payload)]);
}

/** A decoded protobuf field: varints as bigint, length-delimited as bytes. */
type Field = { number: number; value: bigint | Uint8Array };

/** Splits protobuf bytes into fields (wire types 0 and 2 only, all dora v2 uses). */
export function decodeFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[i++];
      if (byte === undefined) throw new Error("truncated varint");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const tag = Number(readVarint());
    const wireType = tag & 7;
    if (wireType === 0) fields.push({ number: tag >> 3, value: readVarint() });
    else if (wireType === 2) {
      const length = Number(readVarint());
      fields.push({ number: tag >> 3, value: bytes.subarray(i, i + length) });
      i += length;
    } else throw new Error(`unexpected wire type ${wireType}`);
  }
  return fields;
}

const text = (value: bigint | Uint8Array | undefined) => (value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : "");

/** A decoded `Pkg`: the head's seq, method, serialize_type and meta, and the payload. */
export interface DecodedPkg {
  readonly seq: bigint;
  readonly method: string;
  readonly serializeType: string;
  readonly meta: Record<string, string>;
  readonly payload: Uint8Array;
}

/** Decodes a Pkg: the head's seq, method and meta, and the payload. */
export function decodePkg(bytes: Uint8Array): DecodedPkg {
  const pkg = decodeFields(bytes);
  const head = decodeFields((pkg.find((f) => f.number === 1)?.value as Uint8Array | undefined) ?? new Uint8Array());
  const meta: Record<string, string> = {};
  for (const entry of head.filter((f) => f.number === 5)) {
    const kv = decodeFields(entry.value as Uint8Array);
    meta[text(kv.find((f) => f.number === 1)?.value)] = text(kv.find((f) => f.number === 2)?.value);
  }
  return {
    seq: (head.find((f) => f.number === 3)?.value as bigint | undefined) ?? 0n,
    method: text(head.find((f) => f.number === 4)?.value),
    serializeType: text(head.find((f) => f.number === 2)?.value),
    meta,
    payload: (pkg.find((f) => f.number === 2)?.value as Uint8Array | undefined) ?? new Uint8Array(),
  };
}

/** Decodes `{status: Status{code, message} = 1, <string> = 2}` (LoginResponse, ReadSecureMessageResponse). */
export function decodeStatusAndString(bytes: Uint8Array): { code: number; message: string; text: string } {
  const fields = decodeFields(bytes);
  const status = decodeFields((fields.find((f) => f.number === 1)?.value as Uint8Array | undefined) ?? new Uint8Array());
  return {
    code: Number((status.find((f) => f.number === 1)?.value as bigint | undefined) ?? 0n),
    message: text(status.find((f) => f.number === 2)?.value),
    text: text(fields.find((f) => f.number === 2)?.value),
  };
}

/** One TCP connection speaking nap frames. */
export class RawDoraPeer {
  private buffer = Buffer.alloc(0);
  private readonly waiting = new Map<number, (payload: Buffer) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 10) {
        const length = this.buffer.readUInt32BE(0);
        if (this.buffer.length < 10 + length) break;
        const stream = this.buffer.readUInt32BE(4);
        const type = this.buffer.readUInt8(8);
        const flags = this.buffer.readUInt8(9);
        const payload = this.buffer.subarray(10, 10 + length);
        this.buffer = this.buffer.subarray(10 + length);
        if (type === 0) this.waiting.get(stream)?.(Buffer.from(payload));
        else if (type === 1 && (flags & 1) === 0) this.pong(stream);
      }
    });
  }

  /** Connects to `HOST:PORT`. */
  static connect(address: string): Promise<RawDoraPeer> {
    const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new RawDoraPeer(socket)));
      socket.once("error", reject);
    });
  }

  private pong(stream: number): void {
    // A PING without ACK is answered with a PING with ACK (SPEC §3.1); ACKs need nothing.
    const header = Buffer.alloc(10);
    header.writeUInt32BE(0, 0);
    header.writeUInt32BE(stream, 4);
    header.writeUInt8(1, 8);
    header.writeUInt8(1, 9);
    this.socket.write(header);
  }

  /** Sends one DATA frame on `stream` and resolves with the DATA payload answered on it. */
  call(stream: number, pkg: Uint8Array): Promise<Buffer> {
    const header = Buffer.alloc(10);
    header.writeUInt32BE(pkg.length, 0);
    header.writeUInt32BE(stream, 4);
    header.writeUInt8(0, 8);
    header.writeUInt8(0, 9);
    return new Promise((resolve) => {
      this.waiting.set(stream, (payload) => {
        this.waiting.delete(stream);
        resolve(payload);
      });
      this.socket.write(Buffer.concat([header, pkg]));
    });
  }

  /**
   * Sends one DATA frame per entry of `pkgs`, all in ONE socket write (a
   * pipelined burst), on streams `firstStream`, `firstStream + 2`, …; resolves
   * with the payloads answered, in the order sent.
   */
  pipeline(firstStream: number, pkgs: readonly Uint8Array[]): Promise<Buffer[]> {
    const frames: Buffer[] = [];
    const answers = pkgs.map((pkg, i) => {
      const stream = firstStream + 2 * i;
      const header = Buffer.alloc(10);
      header.writeUInt32BE(pkg.length, 0);
      header.writeUInt32BE(stream, 4);
      frames.push(header, Buffer.from(pkg));
      return new Promise<Buffer>((resolve) => {
        this.waiting.set(stream, (payload) => {
          this.waiting.delete(stream);
          resolve(payload);
        });
      });
    });
    this.socket.write(Buffer.concat(frames));
    return Promise.all(answers);
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}
