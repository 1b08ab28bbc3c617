/**
 * The dora protocol envelope `Pkg` (SPEC §3.2; documented in pkg.proto beside
 * this file). Internal module.
 *
 * Hand-written protobuf encoding: the whole frame (10-byte header + Pkg) is
 * written into one buffer sized up front, and decoding hands out the payload
 * as a view of the received frame. Both match protobuf-es byte for byte
 * (fields in number order, proto3 defaults omitted), which pkg.test.ts proves
 * against the schema compiled from pkg.proto.
 */
import { allocFrame } from "./frame-slab.js";
import { FRAME_DATA, FRAME_HEADER_BYTES, writeFrameHeader } from "./frame.js";
import { isReserved, type ReservedMeta } from "./reserved-meta.js";
import { varintSize, writeNegativeInt32, writeVarint } from "./varint.js";

/** The fields of a `Head` other than its metadata. */
export interface HeadFields {
  readonly version: number;
  readonly serializeType: string;
  /**
   * The client's sequence number, a uint64 echoed exactly (SPEC §3.2): a
   * number up to `Number.MAX_SAFE_INTEGER`, a bigint above it.
   */
  readonly seq: number | bigint;
  readonly method: string;
}

/** A decoded `Head`. `meta` is undefined when the head carried none. */
export interface Head extends HeadFields {
  readonly meta: Record<string, string> | undefined;
  /** Bytes of metadata keys and values together, for the `maxMetadataBytes` check. */
  readonly metaBytes: number;
}

/** A decoded `Pkg`. `head` is undefined when the Pkg had none. */
export interface Pkg {
  readonly head: Head | undefined;
  readonly payload: Uint8Array;
}

/** Thrown when bytes are not a decodable `Pkg`. */
export class PkgError extends Error {
  override name = "PkgError";
}

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------- decoding

/** Reads protobuf wire format from one buffer; each decode has its own. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(end: number): number {
    const buf = this.buf;
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new PkgError("truncated varint");
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw new PkgError("varint longer than 10 bytes");
  }

  /** A uint64 varint: a number when it is a safe integer (the common case, no bigint), else an exact bigint. */
  uint64(end: number): number | bigint {
    const start = this.pos;
    const n = this.varint(end);
    if (n <= Number.MAX_SAFE_INTEGER) return n;
    const buf = this.buf;
    let exact = 0n;
    for (let p = this.pos - 1; p >= start; p--) exact = (exact << 7n) | BigInt(buf[p]! & 0x7f);
    return BigInt.asUintN(64, exact);
  }

  /** A varint read as int32: only its low 32 bits count (negative int32s are sent as ten bytes). */
  varint32(end: number): number {
    const buf = this.buf;
    let result = 0;
    for (let i = 0, shift = 0; i < 10; i++, shift += 7) {
      if (this.pos >= end) throw new PkgError("truncated varint");
      const b = buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) return result | 0;
    }
    throw new PkgError("varint longer than 10 bytes");
  }

  /** Reads a length prefix; returns where the field ends. */
  lengthDelimited(end: number): number {
    const len = this.varint(end);
    const stop = this.pos + len;
    if (stop > end) throw new PkgError("length-delimited field runs past its message");
    return stop;
  }

  /** Reads the UTF-8 text from here to `stop` and moves there. */
  text(stop: number): string {
    const s = stop === this.pos ? "" : this.buf.toString("utf8", this.pos, stop);
    this.pos = stop;
    return s;
  }

  /** Reads a string field (length prefix and text). */
  string(end: number): string {
    return this.text(this.lengthDelimited(end));
  }

  skip(end: number, wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint(end);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.lengthDelimited(end);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new PkgError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > end) throw new PkgError("truncated field");
  }
}

function decodeHead(r: Reader, end: number): Head {
  let version = 0;
  let serializeType = "";
  let seq: number | bigint = 0;
  let method = "";
  let meta: Record<string, string> | undefined;
  let metaBytes = 0;
  while (r.pos < end) {
    const tag = r.varint(end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 0) {
      version = r.varint32(end);
    } else if (field === 2 && wireType === 2) {
      serializeType = r.string(end);
    } else if (field === 3 && wireType === 0) {
      seq = r.uint64(end);
    } else if (field === 4 && wireType === 2) {
      method = r.string(end);
    } else if (field === 5 && wireType === 2) {
      const entryEnd = r.lengthDelimited(end);
      let key = "";
      let value = "";
      while (r.pos < entryEnd) {
        const t = r.varint(entryEnd);
        if (t === 0x0a || t === 0x12) {
          const stop = r.lengthDelimited(entryEnd);
          metaBytes += stop - r.pos;
          const s = r.text(stop);
          if (t === 0x0a) key = s;
          else value = s;
        } else {
          r.skip(entryEnd, t & 7);
        }
      }
      (meta ??= {})[key] = value;
    } else {
      r.skip(end, wireType);
    }
  }
  return { version, serializeType, seq, method, meta, metaBytes };
}

/** Decodes a `Pkg` from a frame payload; throws {@link PkgError} when malformed. */
export function decodePkg(buf: Buffer): Pkg {
  const r = new Reader(buf);
  const end = buf.length;
  let head: Head | undefined;
  let payload: Uint8Array = EMPTY;
  while (r.pos < end) {
    const tag = r.varint(end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) {
      const stop = r.lengthDelimited(end);
      head = decodeHead(r, stop);
      r.pos = stop;
    } else if (field === 2 && wireType === 2) {
      const stop = r.lengthDelimited(end);
      payload = buf.subarray(r.pos, stop);
      r.pos = stop;
    } else {
      r.skip(end, wireType);
    }
  }
  return { head, payload };
}

// ---------------------------------------------------------------- encoding

function bigVarintSize(n: bigint): number {
  let size = 1;
  while (n >= 0x80n) {
    size++;
    n >>= 7n;
  }
  return size;
}

function writeBigVarint(buf: Buffer, offset: number, n: bigint): number {
  while (n >= 0x80n) {
    buf[offset++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  buf[offset++] = Number(n);
  return offset;
}

/** Encoded size of one `map<string,string>` entry's body. */
function entrySize(key: string, value: string): number {
  const kl = Buffer.byteLength(key);
  const vl = Buffer.byteLength(value);
  return 1 + varintSize(kl) + kl + 1 + varintSize(vl) + vl;
}

function writeEntry(buf: Buffer, o: number, key: string, value: string): number {
  const kl = Buffer.byteLength(key);
  const vl = Buffer.byteLength(value);
  buf[o++] = 0x2a; // Head.meta
  o = writeVarint(buf, o, 1 + varintSize(kl) + kl + 1 + varintSize(vl) + vl);
  buf[o++] = 0x0a;
  o = writeVarint(buf, o, kl);
  o += buf.write(key, o, "utf8");
  buf[o++] = 0x12;
  o = writeVarint(buf, o, vl);
  o += buf.write(value, o, "utf8");
  return o;
}

/**
 * Encodes one DATA frame holding a `Pkg`, header included, into a single new
 * buffer. The head's metadata is `meta` without its reserved keys (user code
 * cannot set them, SPEC §3.2; a value that is not a string is written as
 * `String(value)`) followed by the `reserved` entries. `version` 0,
 * empty strings, seq 0 and an empty payload are omitted as proto3 prescribes.
 */
export function encodePkgFrame(
  streamId: number,
  head: HeadFields,
  meta: Readonly<Record<string, string>> | undefined,
  reserved: ReservedMeta | undefined,
  payload: Uint8Array,
): Buffer {
  const { version, serializeType, seq, method } = head;
  let headSize = 0;
  if (version !== 0) headSize += 1 + (version < 0 ? 10 : varintSize(version));
  const stLen = serializeType.length === 0 ? 0 : Buffer.byteLength(serializeType);
  if (stLen > 0) headSize += 1 + varintSize(stLen) + stLen;
  // A bigint seq is always above 2^53 (see Reader.uint64); BigInt.asUintN keeps any other within uint64.
  const bigSeq = typeof seq === "bigint" && seq !== 0n ? BigInt.asUintN(64, seq) : undefined;
  if (bigSeq !== undefined) headSize += 1 + bigVarintSize(bigSeq);
  else if (typeof seq === "number" && seq !== 0) headSize += 1 + varintSize(seq);
  const methodLen = method.length === 0 ? 0 : Buffer.byteLength(method);
  if (methodLen > 0) headSize += 1 + varintSize(methodLen) + methodLen;
  if (meta !== undefined) {
    for (const key in meta) {
      if (isReserved(key)) continue;
      const entry = entrySize(key, String(meta[key]));
      headSize += 1 + varintSize(entry) + entry;
    }
  }
  if (reserved !== undefined) {
    for (const key in reserved) {
      const entry = entrySize(key, reserved[key as keyof ReservedMeta]!);
      headSize += 1 + varintSize(entry) + entry;
    }
  }
  const payloadLen = payload.length;
  const pkgSize = 1 + varintSize(headSize) + headSize + (payloadLen > 0 ? 1 + varintSize(payloadLen) + payloadLen : 0);

  const buf = allocFrame(FRAME_HEADER_BYTES + pkgSize);
  writeFrameHeader(buf, 0, pkgSize, streamId, FRAME_DATA, 0);
  let o = FRAME_HEADER_BYTES;
  buf[o++] = 0x0a; // Pkg.head
  o = writeVarint(buf, o, headSize);
  if (version !== 0) {
    buf[o++] = 0x08;
    o = version < 0 ? writeNegativeInt32(buf, o, version) : writeVarint(buf, o, version);
  }
  if (stLen > 0) {
    buf[o++] = 0x12;
    o = writeVarint(buf, o, stLen);
    o += buf.write(serializeType, o, "utf8");
  }
  if (bigSeq !== undefined) {
    buf[o++] = 0x18;
    o = writeBigVarint(buf, o, bigSeq);
  } else if (typeof seq === "number" && seq !== 0) {
    buf[o++] = 0x18;
    o = writeVarint(buf, o, seq);
  }
  if (methodLen > 0) {
    buf[o++] = 0x22;
    o = writeVarint(buf, o, methodLen);
    o += buf.write(method, o, "utf8");
  }
  if (meta !== undefined) {
    for (const key in meta) if (!isReserved(key)) o = writeEntry(buf, o, key, String(meta[key]));
  }
  if (reserved !== undefined) {
    for (const key in reserved) o = writeEntry(buf, o, key, reserved[key as keyof ReservedMeta]!);
  }
  if (payloadLen > 0) {
    buf[o++] = 0x12; // Pkg.payload
    o = writeVarint(buf, o, payloadLen);
    buf.set(payload, o);
  }
  return buf;
}
