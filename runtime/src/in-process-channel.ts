/**
 * Two frame channels joined in memory: what an in-process client and the
 * server it calls use instead of a socket. Frames still go through the frame
 * decoder (size limit included), PINGs are answered, and frames are
 * delivered on a later tick, in order, as a socket would deliver them.
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

  constructor(
    private readonly listener: FrameListener,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes, this.onDecodedFrame);
  }

  write(frame: Buffer): void {
    if (!this.closed && this.other !== undefined) process.nextTick(deliver, this.other, frame);
  }

  end(): void {
    // After the frames already written, like a socket's FIN.
    if (!this.closed) process.nextTick(closeBoth, this, undefined);
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

function deliver(to: InProcessChannel, frame: Buffer): void {
  to.receive(frame);
}

/** Closes both ends: `end`'s listener hears `error`, the other end a clean close. */
function closeBoth(end: InProcessChannel, error: Error | undefined): void {
  end.shut(error);
  end.other?.shut(undefined);
}
