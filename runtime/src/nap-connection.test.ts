import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FrameListener } from "./frame-channel.js";
import { KeepaliveTimeoutError, NapConnection } from "./nap-connection.js";
import { FLAG_ACK, FRAME_DATA, FRAME_PING, pingFrame } from "./protocol/frame.js";
import { FrameError } from "./protocol/frame-decoder.js";

/** A socket stand-in: records writes, reports a full write buffer on demand, closes when destroyed. Pure logic only. */
class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  bufferFull = false;
  paused = false;
  destroyed = false;
  setNoDelay(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}
  write(frame: Buffer): boolean {
    this.written.push(frame);
    return !this.bufferFull;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  end(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }
  ref(): void {}
  unref(): void {}
  /** PING frames written (not ACKs). */
  get pings(): number {
    return this.written.filter((f) => f[8] === FRAME_PING && (f[9]! & FLAG_ACK) === 0).length;
  }
}

function connect(options: { pauseReadsWhileBlocked?: boolean } = {}) {
  const socket = new FakeSocket();
  const frames: number[] = [];
  const closed: Array<Error | undefined> = [];
  const listener: FrameListener = { onOpen() {}, onFrame: (type) => frames.push(type), onClose: (e) => closed.push(e) };
  const conn = new NapConnection(socket as unknown as Socket, { keepaliveTimeMs: 5000, keepaliveTimeoutMs: 20000, frameTimeoutMs: 20000, maxFrameBytes: 1024, pauseReadsWhileBlocked: options.pauseReadsWhileBlocked ?? false }, listener);
  return { socket, conn, frames, closed };
}

afterEach(() => vi.useRealTimers());

describe("NapConnection keepalive (SPEC §3.1), on a fake clock", () => {
  it("pings after keepaliveTimeMs without reading, and closes keepaliveTimeoutMs later when nothing comes", () => {
    vi.useFakeTimers();
    const { socket, closed } = connect();
    vi.advanceTimersByTime(4999);
    expect(socket.pings).toBe(0);
    vi.advanceTimersByTime(1);
    expect(socket.pings).toBe(1);
    vi.advanceTimersByTime(19_999);
    expect(closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toBeInstanceOf(KeepaliveTimeoutError);
    expect(closed[0]!.message).toBe("no frame received for 25000 ms");
  });

  it("keeps a peer that answers every PING, for as long as it answers", () => {
    vi.useFakeTimers();
    const { socket, closed } = connect();
    for (let round = 1; round <= 10; round++) {
      vi.advanceTimersByTime(5000);
      expect(socket.pings).toBe(round);
      socket.emit("data", pingFrame(0, true));
      vi.advanceTimersByTime(20_000);
    }
    expect(closed).toEqual([]);
  });

  it("counts any frame read as life, so a peer that sends calls is never pinged", () => {
    vi.useFakeTimers();
    const { socket, closed, frames } = connect();
    for (let i = 0; i < 10; i++) {
      socket.emit("data", Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, FRAME_DATA, 0]));
      vi.advanceTimersByTime(4000);
    }
    expect(socket.pings).toBe(0);
    expect(frames).toHaveLength(10);
    expect(closed).toEqual([]);
  });
});

describe("NapConnection frames", () => {
  it("answers a PING with a PING ACK on the same stream id, and reports every frame", () => {
    const { socket, frames } = connect();
    socket.emit("data", pingFrame(42, false));
    expect(socket.written.map((f) => f.toString("hex"))).toEqual([pingFrame(42, true).toString("hex")]);
    expect(frames).toEqual([FRAME_PING]);
  });

  it("closes on a frame that breaks framing, reporting why", () => {
    const { socket, closed } = connect();
    socket.emit("data", Buffer.from([0, 0, 4, 1, 0, 0, 0, 1, FRAME_DATA, 0]));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toBeInstanceOf(FrameError);
  });
});

describe("NapConnection backpressure (SPEC §4)", () => {
  it("a server stops reading while its writes are blocked, PING answers included, and resumes on drain", () => {
    const { socket } = connect({ pauseReadsWhileBlocked: true });
    socket.bufferFull = true;
    socket.emit("data", pingFrame(1, false));
    expect(socket.paused).toBe(true);
    socket.bufferFull = false;
    socket.emit("drain");
    expect(socket.paused).toBe(false);
  });

  it("a client keeps reading: it needs its answers to make progress", () => {
    const { socket, conn } = connect({ pauseReadsWhileBlocked: false });
    socket.bufferFull = true;
    conn.write(pingFrame(1, false));
    expect(socket.paused).toBe(false);
  });
});
