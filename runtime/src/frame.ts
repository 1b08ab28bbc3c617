/**
 * The nap transport's frame layer (SPEC §3.1). Internal module.
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

/** Thrown by {@link FrameDecoder} when the peer breaks framing; the connection must close. */
export class FrameError extends Error {
  override name = "FrameError";
}

/** Called for each complete frame. `payload` is a view into the received bytes (no copy). */
export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Incremental frame decoder: bytes may arrive split anywhere. The declared
 * length is checked against `maxFrameBytes` and the type against the known
 * types before any payload is buffered or allocated. Frames that lie wholly in
 * one received chunk are handed out as views of it; only a frame that spans
 * chunks is copied, once, when its last byte arrives.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total size (header + payload) of the frame being collected, or -1 while its header is incomplete. */
  private need = -1;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Bytes received but not yet handed out as a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds received bytes; throws {@link FrameError} on an oversize length or unknown type. */
  push(chunk: Buffer): void {
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.need < 0) {
        if (this.pendingBytes < FRAME_HEADER_BYTES) return;
        let head = this.pending[0]!;
        if (head.length < FRAME_HEADER_BYTES) {
          head = Buffer.concat(this.pending, this.pendingBytes);
          this.pending = [head];
        }
        this.need = FRAME_HEADER_BYTES + this.checkHeader(head, 0);
      }
      if (this.pendingBytes < this.need) return;
      chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.need = -1;
    }
    const end = chunk.length;
    let offset = 0;
    while (end - offset >= FRAME_HEADER_BYTES) {
      const length = this.checkHeader(chunk, offset);
      const frameEnd = offset + FRAME_HEADER_BYTES + length;
      if (frameEnd > end) {
        this.need = FRAME_HEADER_BYTES + length;
        break;
      }
      this.onFrame(
        chunk[offset + 8]!,
        chunk[offset + 9]!,
        chunk.readUInt32BE(offset + 4),
        chunk.subarray(offset + FRAME_HEADER_BYTES, frameEnd),
      );
      offset = frameEnd;
    }
    if (offset < end) {
      this.pending.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.pendingBytes = end - offset;
    }
  }

  private checkHeader(buf: Buffer, offset: number): number {
    const length = buf.readUInt32BE(offset);
    if (length > this.maxFrameBytes) {
      throw new FrameError(`frame length ${length} exceeds the maximum of ${this.maxFrameBytes} bytes`);
    }
    const type = buf[offset + 8]!;
    if (type !== FRAME_DATA && type !== FRAME_PING) {
      throw new FrameError(`unknown frame type 0x${type.toString(16)}`);
    }
    return length;
  }
}

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
