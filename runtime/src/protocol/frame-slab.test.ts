import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocFrame, MAX_SLAB_FRAME_BYTES, SLAB_BYTES } from "./frame-slab.js";

/** Fills `frame` with a byte derived from `tag`, so that later checks can tell whether anything else wrote into it. */
function stamp(frame: Buffer, tag: number): void {
  frame.fill(tag & 0xff);
}

function isStamped(frame: Buffer, tag: number): boolean {
  return frame.every((byte) => byte === (tag & 0xff));
}

describe("allocFrame: frames carved from shared slabs", () => {
  it("gives each frame exactly the bytes asked for, starting at a multiple of 8, in one slab with the frames before it", () => {
    const a = allocFrame(4106);
    const b = allocFrame(13);
    expect(a.length).toBe(4106);
    expect(b.length).toBe(13);
    expect(a.byteOffset % 8).toBe(0);
    expect(b.byteOffset % 8).toBe(0);
    if (a.buffer === b.buffer) expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.length);
    expect(a.buffer.byteLength === SLAB_BYTES || b.buffer.byteLength === SLAB_BYTES).toBe(true);
  });

  it("gives a frame above MAX_SLAB_FRAME_BYTES a buffer of its own", () => {
    const big = allocFrame(MAX_SLAB_FRAME_BYTES + 1);
    const slabbed = allocFrame(MAX_SLAB_FRAME_BYTES);
    expect(big.length).toBe(MAX_SLAB_FRAME_BYTES + 1);
    expect(big.buffer).not.toBe(slabbed.buffer);
    expect(slabbed.buffer.byteLength).toBe(SLAB_BYTES);
  });

  it("starts a new slab when the current one has no room, and leaves the frames already handed out as they were", () => {
    const first = allocFrame(MAX_SLAB_FRAME_BYTES);
    stamp(first, 1);
    const later: Buffer[] = [];
    // Enough frames to fill the rest of first's slab and spill into the next.
    for (let i = 0; i < Math.ceil(SLAB_BYTES / MAX_SLAB_FRAME_BYTES) + 1; i++) {
      const frame = allocFrame(MAX_SLAB_FRAME_BYTES);
      stamp(frame, i + 2);
      later.push(frame);
    }
    expect(later.some((frame) => frame.buffer !== first.buffer)).toBe(true);
    expect(isStamped(first, 1)).toBe(true);
    later.forEach((frame, i) => expect(isStamped(frame, i + 2)).toBe(true));
  });

  it("keeps at most SLAB_BYTES alive for a frame that waits in a write queue: a slab holds at least four frames and is four of Node's pools (property)", () => {
    expect(SLAB_BYTES).toBeLessThanOrEqual(4 * Buffer.poolSize);
    expect(MAX_SLAB_FRAME_BYTES * 4).toBeLessThanOrEqual(SLAB_BYTES);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 * MAX_SLAB_FRAME_BYTES }), (size) => {
        const frame = allocFrame(size);
        // A frame either is a view into a slab of SLAB_BYTES or owns a buffer no larger than Node's pool or itself.
        expect(frame.buffer.byteLength).toBeLessThanOrEqual(Math.max(SLAB_BYTES, size));
      }),
    );
  });

  it("never hands out two frames that share a byte, whatever the sizes asked for (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: MAX_SLAB_FRAME_BYTES + 64 }), { minLength: 1, maxLength: 60 }), (sizes) => {
        const frames = sizes.map((size, i) => {
          const frame = allocFrame(size);
          stamp(frame, i);
          return frame;
        });
        frames.forEach((frame, i) => {
          expect(frame.length).toBe(sizes[i]);
          expect(isStamped(frame, i)).toBe(true);
        });
      }),
    );
  });
});
