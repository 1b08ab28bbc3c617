/**
 * The streaming frames (docs/protocol.md "Streaming"): DATA frames whose
 * flags say what they carry. A dora v2 unary peer never sets a DATA flag, so
 * a frame with flags 0 is always a unary call or answer. Internal module.
 *
 * | flag   | name    | payload                                                              |
 * | ------ | ------- | -------------------------------------------------------------------- |
 * | `0x01` | OPEN    | a `Pkg` with `head`: the client's opens a stream, the server's carries its response headers |
 * | `0x02` | MESSAGE | the `Pkg`'s `payload` is one message (with OPEN, in the same `Pkg`)  |
 * | `0x04` | END     | the sender sends no more messages; the server's carries the status and trailers in `head.meta` |
 * | `0x08` | RESET   | empty: the sender cancels the stream                                 |
 * | `0x10` | WINDOW  | 4 bytes, u32: credit returned to the sender, in message bytes         |
 */
import { allocFrame } from "./frame-slab.js";
import { FRAME_DATA, FRAME_HEADER_BYTES, writeFrameHeader } from "./frame.js";
import { encodePkgFrame, type HeadFields } from "./pkg.js";
import type { ReservedMeta } from "./reserved-meta.js";
import { varintSize, writeVarint } from "./varint.js";

/** The first frame of a stream in each direction: carries a `Pkg` head. */
export const FLAG_OPEN = 0x01;
/** The `Pkg`'s payload is one message; costs its payload length of flow-control credit. */
export const FLAG_MESSAGE = 0x02;
/** The sender half-closes; from the server, the end of the call with its status. */
export const FLAG_END = 0x04;
/** The sender cancels the stream; nothing more is sent on it. */
export const FLAG_RESET = 0x08;
/** Returns flow-control credit: a 4-byte big-endian increment. */
export const FLAG_WINDOW = 0x10;
/** Every flag a stream frame may carry. */
export const STREAM_FLAGS = FLAG_OPEN | FLAG_MESSAGE | FLAG_END | FLAG_RESET | FLAG_WINDOW;

/** The default window of a stream, each way, in message bytes (like HTTP/2's 65,535). */
export const DEFAULT_STREAM_WINDOW_BYTES = 65536;
/** The largest window: credit above it is a protocol violation (RFC 9113 §6.9.1). */
export const MAX_STREAM_WINDOW_BYTES = 0x7fffffff;

/** A head with nothing in it: the END frame carries only metadata. */
const EMPTY_HEAD: HeadFields = { version: 0, serializeType: "", seq: 0, method: "" };
const EMPTY_BYTES = new Uint8Array(0);

/**
 * A frame with a full `Pkg` (head, metadata, optional payload) and `flags`:
 * the client's OPEN, the server's OPEN (headers), or OPEN|MESSAGE.
 */
export function encodeOpenFrame(
  streamId: number,
  flags: number,
  head: HeadFields,
  meta: Readonly<Record<string, string>> | undefined,
  reserved: ReservedMeta | undefined,
  payload: Uint8Array,
): Buffer {
  const frame = encodePkgFrame(streamId, head, meta, reserved, payload);
  frame[9] = flags;
  return frame;
}

/** A MESSAGE frame: a `Pkg` with only its payload (field 2). */
export function encodeMessageFrame(streamId: number, flags: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const pkgSize = n === 0 ? 0 : 1 + varintSize(n) + n;
  const buf = allocFrame(FRAME_HEADER_BYTES + pkgSize);
  writeFrameHeader(buf, 0, pkgSize, streamId, FRAME_DATA, flags);
  if (n > 0) {
    buf[FRAME_HEADER_BYTES] = 0x12; // Pkg.payload
    buf.set(payload, writeVarint(buf, FRAME_HEADER_BYTES + 1, n));
  }
  return buf;
}

/** The server's END frame: a `Pkg` whose head holds the trailers and the status (`dora-status`, `dora-message`). */
export function encodeEndFrame(streamId: number, flags: number, trailers: Readonly<Record<string, string>> | undefined, status: ReservedMeta | undefined): Buffer {
  return encodeOpenFrame(streamId, flags, EMPTY_HEAD, trailers, status, EMPTY_BYTES);
}

/** A frame with `flags` and an empty payload: the client's END (half-close) or a RESET. */
export function emptyStreamFrame(streamId: number, flags: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, 0, streamId, FRAME_DATA, flags);
  return buf;
}

/** A WINDOW frame returning `increment` bytes of credit (1 to 2^31−1). */
export function windowFrame(streamId: number, increment: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(buf, 0, 4, streamId, FRAME_DATA, FLAG_WINDOW);
  buf.writeUInt32BE(increment, FRAME_HEADER_BYTES);
  return buf;
}

/** The increment a WINDOW frame carries, or undefined when its payload is not 4 bytes. */
export function readWindowIncrement(payload: Buffer): number | undefined {
  return payload.length === 4 ? payload.readUInt32BE(0) : undefined;
}
