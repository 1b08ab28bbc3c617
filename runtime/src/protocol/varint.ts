/**
 * Protobuf varints for the runtime's hand-written encoders (the `Pkg`
 * envelope in pkg.ts and stream-frame.ts, plain messages in sized-encoder.ts).
 */

/** The encoded size of a non-negative integer up to 2^53. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

/** Writes a non-negative integer up to 2^53 at `offset`; answers the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

/** Writes a negative int32 as protobuf does, sign-extended to 64 bits: ten bytes. */
export function writeNegativeInt32(buf: Uint8Array, offset: number, n: number): number {
  let lo = n >>> 0;
  for (let i = 0; i < 4; i++) {
    buf[offset++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  buf[offset++] = (lo & 0x0f) | 0xf0;
  for (let i = 0; i < 4; i++) buf[offset++] = 0xff;
  buf[offset++] = 0x01;
  return offset;
}
