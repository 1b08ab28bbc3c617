/**
 * The 10-byte nap frame header (SPEC §3.1): length u32, stream id u32,
 * type u8, flags u8, all big-endian. Used by the raw-socket bound only.
 */
export const FRAME_HEADER_BYTES = 10;
/** Frame type DATA. */
export const FRAME_DATA = 0;

/** A whole frame: header for `streamId` (DATA, flags 0) followed by `payload`, in one new buffer. */
export function encodeFrame(streamId: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(streamId, 4);
  frame[8] = FRAME_DATA;
  frame[9] = 0;
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Splits a byte stream into frames: `push` each received chunk and get a
 * callback per whole frame (stream id, type, payload as a view of the
 * received bytes). Keeps an incomplete tail for the next chunk; a frame
 * larger than `maxFrameBytes` throws.
 */
export class FrameReader {
  private pending: Buffer | undefined;

  /** `maxFrameBytes`: largest payload accepted (default 4 MiB, the runtime's default). */
  constructor(private readonly maxFrameBytes = 4 * 1024 * 1024) {}

  /** Feeds one chunk; calls `onFrame` for each frame it completes. */
  push(chunk: Buffer, onFrame: (streamId: number, type: number, payload: Buffer) => void): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (buf.length - offset >= FRAME_HEADER_BYTES) {
      const length = buf.readUInt32BE(offset);
      if (length > this.maxFrameBytes) throw new Error(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > buf.length) break;
      onFrame(buf.readUInt32BE(offset + 4), buf[offset + 8]!, buf.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    this.pending = offset < buf.length ? buf.subarray(offset) : undefined;
  }
}
