/**
 * The incremental nap frame decoder (SPEC §3.1). Internal module.
 */
import { FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING } from "./frame.js";

/**
 * Thrown by {@link FrameDecoder} when the peer breaks framing; the connection
 * must close (it cannot resync). `header` holds the offending header bytes, so
 * a client can tell a peer that speaks another protocol (SPEC §4).
 */
export class FrameError extends Error {
  override name = "FrameError";
  constructor(
    message: string,
    /** What was wrong: a declared length above the maximum, or a type that is neither DATA nor PING. */
    readonly kind: "oversize" | "unknown-type",
    /** A copy of the 10 header bytes that broke framing. */
    readonly header: Buffer,
  ) {
    super(message);
  }
}

/** Called for each complete frame. `payload` is a view into the received bytes (no copy). */
export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Incremental frame decoder: bytes may arrive split anywhere. The declared
 * length is checked against `maxFrameBytes` and the type against the known
 * types before any payload is buffered or allocated. Frames that lie wholly in
 * one received chunk are handed out as views of it; only a frame that spans
 * chunks is copied, once, when its last byte arrives (the frames after it in
 * that chunk are views again).
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
      const have = this.pendingBytes;
      if (this.need < 0) {
        // Fewer than 10 bytes are pending: the header is still incomplete.
        if (have + chunk.length < FRAME_HEADER_BYTES) {
          this.pending.push(chunk);
          this.pendingBytes += chunk.length;
          return;
        }
        this.pending.push(chunk.subarray(0, FRAME_HEADER_BYTES - have));
        const header = Buffer.concat(this.pending, FRAME_HEADER_BYTES);
        this.pending.pop();
        this.need = FRAME_HEADER_BYTES + this.checkHeader(header, 0);
      }
      const missing = this.need - have;
      if (chunk.length < missing) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        return;
      }
      // The frame that spans chunks is copied, alone; the rest of the chunk stays a view.
      this.pending.push(chunk.subarray(0, missing));
      const frame = Buffer.concat(this.pending, this.need);
      this.pending = [];
      this.pendingBytes = 0;
      this.need = -1;
      this.onFrame(frame[8]!, frame[9]!, frame.readUInt32BE(4), frame.subarray(FRAME_HEADER_BYTES));
      chunk = chunk.subarray(missing);
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
      this.onFrame(chunk[offset + 8]!, chunk[offset + 9]!, chunk.readUInt32BE(offset + 4), chunk.subarray(offset + FRAME_HEADER_BYTES, frameEnd));
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
      throw new FrameError(`frame length ${length} exceeds the maximum of ${this.maxFrameBytes} bytes`, "oversize", Buffer.from(buf.subarray(offset, offset + FRAME_HEADER_BYTES)));
    }
    const type = buf[offset + 8]!;
    if (type !== FRAME_DATA && type !== FRAME_PING) {
      throw new FrameError(`unknown frame type 0x${type.toString(16)}`, "unknown-type", Buffer.from(buf.subarray(offset, offset + FRAME_HEADER_BYTES)));
    }
    return length;
  }
}
