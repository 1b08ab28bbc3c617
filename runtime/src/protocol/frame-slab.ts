/**
 * Buffers for outgoing frames, carved from shared slabs. Internal module.
 *
 * A frame is written once, handed to the socket and never changed again, so
 * frames can share memory the way Node's own Buffer pool shares it: each one
 * is a view of its own bytes in a larger slab that only fills forwards and is
 * never reused; the slab is freed once the socket has written, and dropped,
 * the last frame in it. Node's pool serves only allocations below 4 KiB; a
 * frame of 4 KiB or more (a 2000-byte key and a 2000-byte value with their
 * metadata) would otherwise get an ArrayBuffer of its own, which costs about
 * ten times as much as a view.
 *
 * Only frames come from here, and their bytes go to a socket; the in-process
 * channel, whose other end decodes them in this process, copies each one
 * first, so no decoded message (a `bytes` field is a view of its frame) can
 * keep a slab alive.
 */

/** Bytes of one slab. */
export const SLAB_BYTES = 128 * 1024;
/** Largest frame served from a slab; a larger one gets a buffer of its own. */
export const MAX_SLAB_FRAME_BYTES = 16 * 1024;

let slab: Buffer | undefined;
let offset = 0;

/**
 * An uninitialised buffer of `size` bytes for one frame: a view into the
 * current slab (a fresh slab when the current one has no room left), or a
 * buffer of its own above {@link MAX_SLAB_FRAME_BYTES}. Views start at
 * multiples of 8 bytes.
 */
export function allocFrame(size: number): Buffer {
  if (size > MAX_SLAB_FRAME_BYTES) return Buffer.allocUnsafe(size);
  if (slab === undefined || offset + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    offset = 0;
  }
  const frame = slab.subarray(offset, offset + size);
  offset = (offset + size + 7) & ~7;
  return frame;
}
