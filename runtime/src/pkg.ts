/**
 * The dora protocol envelope `Pkg { Head head = 1; bytes payload = 2; }` with
 * `Head { int32 version = 1; string serialize_type = 2; uint64 seq = 3;
 * string method = 4; map<string,string> meta = 5; }` (SPEC §3.2). Internal module.
 *
 * Hand-written protobuf encoding: the whole frame (10-byte header + Pkg) is
 * written into one buffer sized up front, and decoding hands out the payload
 * as a view of the received frame. Both match protoc's output byte for byte
 * (fields in number order, proto3 defaults omitted).
 */
import { FRAME_DATA, FRAME_HEADER_BYTES, writeFrameHeader } from "./frame.js";

/** A decoded `Head`. `meta` is undefined when the head carried none. */
export interface Head {
  version: number;
  serializeType: string;
  seq: number;
  method: string;
  meta: Record<string, string> | undefined;
  /** Bytes of metadata keys and values together, for the `maxMetadataBytes` check. */
  metaBytes: number;
}

/** A decoded `Pkg`. `head` is undefined when the Pkg had none. */
export interface Pkg {
  head: Head | undefined;
  payload: Uint8Array;
}

/** Thrown when bytes are not a decodable `Pkg`. */
export class PkgError extends Error {
  override name = "PkgError";
}

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------- decoding

let pos = 0;

function varint(buf: Uint8Array, end: number): number {
  let result = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new PkgError("truncated varint");
    const b = buf[pos++]!;
    result += (b & 0x7f) * shift;
    if (b < 0x80) return result;
    shift *= 128;
  }
  throw new PkgError("varint longer than 10 bytes");
}

/** A varint read as int32: only its low 32 bits count (negative int32s are sent as ten bytes). */
function varint32(buf: Uint8Array, end: number): number {
  let result = 0;
  for (let i = 0, shift = 0; i < 10; i++, shift += 7) {
    if (pos >= end) throw new PkgError("truncated varint");
    const b = buf[pos++]!;
    if (shift < 32) result |= (b & 0x7f) << shift;
    if (b < 0x80) return result | 0;
  }
  throw new PkgError("varint longer than 10 bytes");
}

function lengthDelimited(buf: Uint8Array, end: number): number {
  const len = varint(buf, end);
  const stop = pos + len;
  if (stop > end) throw new PkgError("length-delimited field runs past its message");
  return stop;
}

function skip(buf: Uint8Array, end: number, wireType: number): void {
  switch (wireType) {
    case 0:
      varint(buf, end);
      return;
    case 1:
      pos += 8;
      break;
    case 2:
      pos = lengthDelimited(buf, end);
      return;
    case 5:
      pos += 4;
      break;
    default:
      throw new PkgError(`unsupported wire type ${wireType}`);
  }
  if (pos > end) throw new PkgError("truncated field");
}

function str(buf: Buffer, start: number, stop: number): string {
  return stop === start ? "" : buf.toString("utf8", start, stop);
}

function decodeHead(buf: Buffer, end: number): Head {
  const head: Head = { version: 0, serializeType: "", seq: 0, method: "", meta: undefined, metaBytes: 0 };
  while (pos < end) {
    const tag = varint(buf, end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 0) {
      head.version = varint32(buf, end);
    } else if (field === 2 && wireType === 2) {
      const stop = lengthDelimited(buf, end);
      head.serializeType = str(buf, pos, stop);
      pos = stop;
    } else if (field === 3 && wireType === 0) {
      head.seq = varint(buf, end);
    } else if (field === 4 && wireType === 2) {
      const stop = lengthDelimited(buf, end);
      head.method = str(buf, pos, stop);
      pos = stop;
    } else if (field === 5 && wireType === 2) {
      const entryEnd = lengthDelimited(buf, end);
      let key = "";
      let value = "";
      while (pos < entryEnd) {
        const t = varint(buf, entryEnd);
        if ((t === 0x0a || t === 0x12)) {
          const stop = lengthDelimited(buf, entryEnd);
          head.metaBytes += stop - pos;
          if (t === 0x0a) key = str(buf, pos, stop);
          else value = str(buf, pos, stop);
          pos = stop;
        } else {
          skip(buf, entryEnd, t & 7);
        }
      }
      (head.meta ??= {})[key] = value;
    } else {
      skip(buf, end, wireType);
    }
  }
  return head;
}

/** Decodes a `Pkg` from a frame payload; throws {@link PkgError} when malformed. */
export function decodePkg(buf: Buffer): Pkg {
  pos = 0;
  const end = buf.length;
  let head: Head | undefined;
  let payload: Uint8Array = EMPTY;
  while (pos < end) {
    const tag = varint(buf, end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) {
      const stop = lengthDelimited(buf, end);
      head = decodeHead(buf, stop);
      pos = stop;
    } else if (field === 2 && wireType === 2) {
      const stop = lengthDelimited(buf, end);
      payload = buf.subarray(pos, stop);
      pos = stop;
    } else {
      skip(buf, end, wireType);
    }
  }
  return { head, payload };
}

// ---------------------------------------------------------------- encoding

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

function writeVarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

/** Scratch space for metadata byte lengths, reused across calls (single-threaded). */
let metaLens: number[] = [];

/**
 * Encodes one DATA frame holding a `Pkg`, header included, into a single new
 * buffer. `version` 0, empty strings, seq 0 and an empty payload are omitted
 * as proto3 prescribes.
 */
export function encodePkgFrame(
  streamId: number,
  version: number,
  serializeType: string,
  seq: number,
  method: string,
  meta: Record<string, string> | undefined,
  payload: Uint8Array,
): Buffer {
  // Head size.
  let headSize = 0;
  if (version !== 0) headSize += 1 + (version < 0 ? 10 : varintSize(version));
  const stLen = serializeType.length === 0 ? 0 : Buffer.byteLength(serializeType);
  if (stLen > 0) headSize += 1 + varintSize(stLen) + stLen;
  if (seq !== 0) headSize += 1 + varintSize(seq);
  const methodLen = method.length === 0 ? 0 : Buffer.byteLength(method);
  if (methodLen > 0) headSize += 1 + varintSize(methodLen) + methodLen;
  let metaCount = 0;
  if (meta !== undefined) {
    for (const key in meta) {
      const kl = Buffer.byteLength(key);
      const vl = Buffer.byteLength(meta[key]!);
      const entry = 1 + varintSize(kl) + kl + 1 + varintSize(vl) + vl;
      metaLens[metaCount++] = kl;
      metaLens[metaCount++] = vl;
      headSize += 1 + varintSize(entry) + entry;
    }
  }
  const payloadLen = payload.length;
  const pkgSize = 1 + varintSize(headSize) + headSize + (payloadLen > 0 ? 1 + varintSize(payloadLen) + payloadLen : 0);

  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + pkgSize);
  writeFrameHeader(buf, 0, pkgSize, streamId, FRAME_DATA, 0);
  let o = FRAME_HEADER_BYTES;
  buf[o++] = 0x0a; // Pkg.head
  o = writeVarint(buf, o, headSize);
  if (version !== 0) {
    buf[o++] = 0x08;
    if (version < 0) {
      // int32 negatives are sign-extended to 64 bits: ten bytes.
      let lo = version >>> 0;
      for (let i = 0; i < 4; i++) {
        buf[o++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      buf[o++] = (lo & 0x0f) | 0xf0;
      for (let i = 0; i < 4; i++) buf[o++] = 0xff;
      buf[o++] = 0x01;
    } else {
      o = writeVarint(buf, o, version);
    }
  }
  if (stLen > 0) {
    buf[o++] = 0x12;
    o = writeVarint(buf, o, stLen);
    o += buf.write(serializeType, o, "utf8");
  }
  if (seq !== 0) {
    buf[o++] = 0x18;
    o = writeVarint(buf, o, seq);
  }
  if (methodLen > 0) {
    buf[o++] = 0x22;
    o = writeVarint(buf, o, methodLen);
    o += buf.write(method, o, "utf8");
  }
  if (meta !== undefined) {
    let i = 0;
    for (const key in meta) {
      const kl = metaLens[i++]!;
      const vl = metaLens[i++]!;
      buf[o++] = 0x2a;
      o = writeVarint(buf, o, 1 + varintSize(kl) + kl + 1 + varintSize(vl) + vl);
      buf[o++] = 0x0a;
      o = writeVarint(buf, o, kl);
      o += buf.write(key, o, "utf8");
      buf[o++] = 0x12;
      o = writeVarint(buf, o, vl);
      o += buf.write(meta[key]!, o, "utf8");
    }
    if (metaLens.length > 1024) metaLens = [];
  }
  if (payloadLen > 0) {
    buf[o++] = 0x12; // Pkg.payload
    o = writeVarint(buf, o, payloadLen);
    buf.set(payload, o);
  }
  return buf;
}
