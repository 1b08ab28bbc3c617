/**
 * Two frame channels joined in memory: what an in-process client and the
 * server it calls use instead of a socket. Frames still go through the frame
 * decoder (size limit included), PINGs are answered, and frames are
 * delivered in order on a later turn of the event loop (`setImmediate`, in
 * batches), as a socket's reads arrive: a stream that never ends cannot keep
 * timers and I/O from running, as microtask or `nextTick` delivery would.
 * Internal module.
 */
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import { FrameDecoder } from "./protocol/frame-decoder.js";
import { FLAG_ACK, FRAME_PING, pingFrame } from "./protocol/frame.js";

/** One end of an in-process pipe. */
export class InProcessChannel implements FrameChannel {
  closed = false;
  /** The other end, once joined. */
  other: InProcessChannel | undefined;
  private readonly decoder: FrameDecoder;
  /** Frames written and not delivered yet, in order. */
  private pending: Buffer[] = [];
  private scheduled = false;
  /** `end()` was called: both ends close once the pending frames are delivered. */
  private ending = false;

  constructor(
    private readonly listener: FrameListener,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes, this.onDecodedFrame);
  }

  write(frame: Buffer): void {
    if (this.closed || this.ending || this.other === undefined) return;
    // A frame in a shared slab (protocol/frame-slab.ts) is copied: the other end decodes it here,
    // and a bytes field of a message it keeps must hold only its own frame, not the whole slab.
    this.pending.push(frame.length === frame.buffer.byteLength ? frame : Buffer.from(frame));
    this.schedule();
  }

  end(): void {
    // After the frames already written, like a socket's FIN.
    if (this.closed || this.ending) return;
    this.ending = true;
    this.schedule();
  }

  destroy(error?: Error): void {
    closeBoth(this, error);
  }

  ref(): void {}

  unref(): void {}

  /** Frames from the other end. */
  receive(frame: Buffer): void {
    if (this.closed) return;
    try {
      this.decoder.push(frame);
    } catch (err) {
      closeBoth(this, err as Error);
    }
  }

  /** Closes this end; its listener hears `onClose(error)` on a later tick. */
  shut(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    process.nextTick(() => this.listener.onClose(error));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Delivers the frames written since the last turn, then closes when `end()` was called. */
  private readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.pending;
    this.pending = [];
    const other = this.other;
    if (other !== undefined) for (const frame of frames) other.receive(frame);
    if (this.ending) closeBoth(this, undefined);
  };

  private readonly onDecodedFrame = (type: number, flags: number, streamId: number, payload: Buffer): void => {
    if (this.closed) return;
    if (type === FRAME_PING && (flags & FLAG_ACK) === 0) this.write(pingFrame(streamId, true));
    this.listener.onFrame(type, flags, streamId, payload);
  };
}

/** Joins two ends into a pipe. */
export function joinChannels(a: InProcessChannel, b: InProcessChannel): void {
  a.other = b;
  b.other = a;
}

/** Closes both ends: `end`'s listener hears `error`, the other end a clean close. */
function closeBoth(end: InProcessChannel, error: Error | undefined): void {
  end.shut(error);
  end.other?.shut(undefined);
}
