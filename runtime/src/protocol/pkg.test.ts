import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PkgSchema } from "../test-helpers/pkg-schema.js";
import { FRAME_DATA, FRAME_HEADER_BYTES } from "./frame.js";
import { decodePkg, encodePkgFrame, PkgError } from "./pkg.js";
import type { ReservedMeta } from "./reserved-meta.js";

// The reference the hand-written codec must match: protobuf-es with the
// schema compiled from pkg.proto.
interface Fields {
  version: number;
  serializeType: string;
  /** A number up to 2^53−1, a bigint above it (as the decoder hands it out). */
  seq: number | bigint;
  method: string;
  /** User metadata (no reserved keys). */
  meta: Record<string, string>;
  /** Framework entries, written after the user's. */
  reserved: ReservedMeta;
  payload: Uint8Array;
}

function reference(f: Fields): Uint8Array {
  const meta = { ...f.meta, ...f.reserved };
  return toBinary(
    PkgSchema,
    create(PkgSchema, { head: { version: f.version, serializeType: f.serializeType, seq: BigInt(f.seq), method: f.method, meta }, payload: f.payload } as never),
  );
}

function ours(f: Fields, streamId = 1): Buffer {
  return encodePkgFrame(streamId, f, Object.keys(f.meta).length > 0 ? f.meta : undefined, Object.keys(f.reserved).length > 0 ? f.reserved : undefined, f.payload);
}

const fields: fc.Arbitrary<Fields> = fc.record({
  version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  serializeType: fc.oneof(fc.constantFrom("", "proto", "json"), fc.string()),
  seq: fc.oneof(
    fc.constantFrom<number | bigint>(0, 1, 127, 128, 2 ** 32, Number.MAX_SAFE_INTEGER, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n),
    fc.nat(),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  ),
  method: fc.oneof(fc.constantFrom("", "Login", "/kv.v1.KvService/Login"), fc.string({ unit: "binary" })),
  meta: fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), { maxKeys: 5 }).map((m) => {
    // protobuf-es keeps a map as a plain object; "__proto__" cannot be an own key there.
    const copy: Record<string, string> = {};
    for (const k of Object.keys(m)) if (k !== "__proto__" && !k.startsWith("dora-")) copy[k] = m[k]!;
    return copy;
  }),
  reserved: fc.record(
    { "dora-timeout": fc.nat().map(String), "dora-status": fc.integer({ min: 0, max: 99 }).map(String), "dora-message": fc.string({ unit: "binary" }) },
    { requiredKeys: [] },
  ),
  payload: fc.uint8Array({ maxLength: 300 }),
});

describe("Pkg encoding", () => {
  it("writes the same bytes as protobuf-es for any envelope, behind a DATA frame header", () => {
    fc.assert(
      fc.property(fields, fc.integer({ min: 0, max: 0xffffffff }), (f, streamId) => {
        const frame = ours(f, streamId);
        const body = frame.subarray(FRAME_HEADER_BYTES);
        expect(frame.readUInt32BE(0)).toBe(body.length);
        expect(frame.readUInt32BE(4)).toBe(streamId);
        expect(frame[8]).toBe(FRAME_DATA);
        expect(frame[9]).toBe(0);
        expect(Buffer.from(body).toString("hex")).toBe(Buffer.from(reference(f)).toString("hex"));
      }),
      { numRuns: 500 },
    );
  });

  it("reads back what it writes, and protobuf-es reads it as the same envelope", () => {
    fc.assert(
      fc.property(fields, (f) => {
        const body = ours(f).subarray(FRAME_HEADER_BYTES);
        const pkg = decodePkg(body);
        expect(pkg.head).toMatchObject({ version: f.version, serializeType: f.serializeType, seq: f.seq, method: f.method });
        expect(pkg.head!.meta ?? {}).toEqual({ ...f.meta, ...f.reserved });
        const theirs = fromBinary(PkgSchema, body) as unknown as { head: { seq: bigint; meta: Record<string, string> } };
        expect(theirs.head.seq).toBe(BigInt(f.seq));
        expect(theirs.head.meta).toEqual({ ...f.meta, ...f.reserved });
      }),
      { numRuns: 300 },
    );
  });

  it("drops reserved keys from user metadata: user code cannot set dora- keys", () => {
    const head = { version: 0, serializeType: "proto", seq: 1, method: "M" };
    const frame = encodePkgFrame(1, head, { "dora-status": "0", user: "u", "dora-timeout": "1" }, { "dora-timeout": "5000" }, new Uint8Array(0));
    expect(decodePkg(frame.subarray(FRAME_HEADER_BYTES)).head!.meta).toEqual({ user: "u", "dora-timeout": "5000" });
  });

  it("echoes every uint64 seq exactly: a number up to 2^53−1, a bigint above it (9007199254740993 and 2^64−1 included)", () => {
    for (const seq of [Number.MAX_SAFE_INTEGER, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
      const received = decodePkg(Buffer.from(reference({ version: 0, serializeType: "", seq, method: "M", meta: {}, reserved: {}, payload: new Uint8Array(0) })));
      expect(received.head!.seq).toBe(seq);
      const echoed = encodePkgFrame(1, received.head!, undefined, { "dora-status": "0" }, new Uint8Array(0)).subarray(FRAME_HEADER_BYTES);
      expect((fromBinary(PkgSchema, echoed) as unknown as { head: { seq: bigint } }).head.seq).toBe(BigInt(seq));
    }
  });

  it("writes an empty head for an envelope with every field at its default", () => {
    const frame = encodePkgFrame(7, { version: 0, serializeType: "", seq: 0, method: "" }, undefined, undefined, new Uint8Array(0));
    expect(frame.toString("hex")).toBe("00000002" + "00000007" + "0000" + "0a00");
  });
});

describe("Pkg decoding", () => {
  it("reads back what protobuf-es writes, for any envelope", () => {
    fc.assert(
      fc.property(fields, (f) => {
        const pkg = decodePkg(Buffer.from(reference(f)));
        expect(pkg.head).toMatchObject({ version: f.version, serializeType: f.serializeType, seq: f.seq, method: f.method });
        expect(pkg.head!.meta ?? {}).toEqual({ ...f.meta, ...f.reserved });
        expect(pkg.head!.metaBytes).toBe(Object.entries({ ...f.meta, ...f.reserved }).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0));
        expect(Buffer.from(pkg.payload).equals(Buffer.from(f.payload))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("hands out the payload as a view of the frame", () => {
    const frame = Buffer.from(reference({ version: 0, serializeType: "proto", seq: 1, method: "M", meta: {}, reserved: {}, payload: new Uint8Array([1, 2, 3]) }));
    expect(decodePkg(frame).payload.buffer).toBe(frame.buffer);
  });

  it("skips unknown fields of every wire type", () => {
    const known = Buffer.from(reference({ version: 2, serializeType: "json", seq: 9, method: "M", meta: { a: "b" }, reserved: {}, payload: new Uint8Array([5]) }));
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32
    const unknown = Buffer.from([0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 0xaa, 0xbb, 0x65, 1, 2, 3, 4]);
    const pkg = decodePkg(Buffer.concat([unknown, known, unknown]));
    expect(pkg.head).toMatchObject({ version: 2, serializeType: "json", seq: 9, method: "M", meta: { a: "b" } });
    expect([...pkg.payload]).toEqual([5]);
  });

  it("has no head when the Pkg carries none", () => {
    const pkg = decodePkg(Buffer.from([0x12, 0x01, 0x07]));
    expect(pkg.head).toBeUndefined();
    expect([...pkg.payload]).toEqual([7]);
  });

  it.each([
    ["a truncated varint", [0x0a, 0x80]],
    ["a length running past the end", [0x0a, 0x05, 0x08]],
    ["a varint longer than ten bytes", [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ["a group wire type", [0x0b]],
    ["a truncated fixed64", [0x09, 1, 2]],
    ["a head that runs past its length", [0x0a, 0x02, 0x12, 0x05]],
  ])("throws PkgError on %s", (_what, bytes) => {
    expect(() => decodePkg(Buffer.from(bytes))).toThrow(PkgError);
  });

  it("throws PkgError, never anything else, on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodePkg(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(PkgError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
