/**
 * The nap frame format (SPEC §3.1). Internal module.
 *
 * ```
 * | length: u32 | stream id: u32 | type: u8 | flags: u8 | payload (length bytes) |
 * ```
 * All integers are big-endian.
 */

/** Size of a frame header in bytes. */
export const FRAME_HEADER_BYTES = 10;
/** A DATA frame carries one `Pkg`. */
export const FRAME_DATA = 0x0;
/** A PING frame; answered by a PING with {@link FLAG_ACK}. */
export const FRAME_PING = 0x1;
/** Flag on a PING answering another PING. */
export const FLAG_ACK = 0x1;

/** Writes a frame header into `buf` at `offset`. */
export function writeFrameHeader(buf: Buffer, offset: number, length: number, streamId: number, type: number, flags: number): void {
  buf.writeUInt32BE(length, offset);
  buf.writeUInt32BE(streamId, offset + 4);
  buf[offset + 8] = type;
  buf[offset + 9] = flags;
}

/** A complete PING (or PING ACK) frame with an empty payload. */
export function pingFrame(streamId: number, ack: boolean): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, 0, streamId, FRAME_PING, ack ? FLAG_ACK : 0);
  return buf;
}
