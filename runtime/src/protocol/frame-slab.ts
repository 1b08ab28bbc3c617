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
 * A frame keeps its whole slab alive while it waits in a socket's write queue,
 * and a peer that stops reading chooses how long that is: its queued answers
 * (up to `maxConcurrentCalls` of them) may each sit in a different slab when
 * other connections' frames fill the slabs between them. So a slab is small,
 * {@link SLAB_BYTES}: a queued frame keeps at most that alive, four times
 * what one in Node's 8 KiB pool keeps (128 KiB slabs were a little faster,
 * but let 1000 queued answers of one connection hold 128 MB).
 *
 * Only frames come from here, and their bytes go to a socket; the in-process
 * channel, whose other end decodes them in this process, copies each one
 * first, so no decoded message (a `bytes` field is a view of its frame) can
 * keep a slab alive.
 */

/** Bytes of one slab: the most memory one frame waiting in a write queue keeps alive. */
export const SLAB_BYTES = 32 * 1024;
/** Largest frame served from a slab (at least four fit in one); a larger one gets a buffer of its own. */
export const MAX_SLAB_FRAME_BYTES = 8 * 1024;

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
