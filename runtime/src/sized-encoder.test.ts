import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { protoCodec } from "./codec.js";
import { sizedEncoder } from "./sized-encoder.js";
import { loadProto, runtimeSrc } from "./test-helpers/load-proto.js";

const proto3 = loadProto(path.join(runtimeSrc, "test-helpers"), "sized.proto");
const proto2 = loadProto(path.join(runtimeSrc, "test-helpers"), "sized2.proto");
const schema = (name: string): DescMessage => (proto3.getMessage(`dora.test.sized.v1.${name}`) ?? proto2.getMessage(`dora.test.sized.v1.${name}`))!;
const Plain = schema("Plain");
const Node = schema("Node");
const Legacy = schema("Legacy");

/** Strings of any UTF-16 code units, lone surrogates included, long enough for two-byte length prefixes. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 300 }).map((units) => String.fromCharCode(...units)),
  fc.constantFrom(127, 128, 2000, 16_384).map((n) => "k".repeat(n)),
);
const int32 = fc.oneof(fc.constantFrom(0, -1, 1, 127, 128, -0x80000000, 0x7fffffff, -0), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const uint32 = fc.oneof(fc.constantFrom(0, 127, 128, 16_383, 16_384, 0xffffffff), fc.nat({ max: 0xffffffff }));
const color = fc.oneof(fc.constantFrom(0, 1, -2), int32);
const status = fc.record({ code: color, message: text }, { requiredKeys: [] });
/** Init shapes of Plain: any subset of its fields. */
const plain = fc.record(
  {
    text,
    blob: fc.uint8Array({ maxLength: 300 }),
    flag: fc.boolean(),
    small: int32,
    count: uint32,
    color,
    status,
    maybeText: text,
    maybeSmall: int32,
    maybeFlag: fc.boolean(),
    last: color,
  },
  { requiredKeys: [] },
);
type NodeInit = { name?: string; next?: NodeInit; leaf?: object };
const node: fc.Arbitrary<NodeInit> = fc.letrec<{ node: NodeInit }>((tie) => ({
  node: fc.record({ name: text, next: fc.option(tie("node"), { nil: undefined, depthSize: "small" }), leaf: plain }, { requiredKeys: [] }) as fc.Arbitrary<NodeInit>,
})).node;

/** Asserts `actual` holds exactly `expected`'s bytes (and is not undefined); compares as Buffers, fast for long ones. */
function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  const a = Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (!a.equals(b)) expect(a.toString("hex")).toBe(b.toString("hex"));
}

/** What protoCodec encoded before the sized encoder: protobuf-es's toBinary of the created message. */
const reference = (desc: DescMessage, init: object): Uint8Array => toBinary(desc, create(desc, init as never));

describe("sized encoder: the bytes of protobuf-es's toBinary, measured and written once", () => {
  it("writes every Plain field kind as toBinary does, for init shapes and created messages alike", () => {
    const encoder = sizedEncoder(Plain)!;
    expect(encoder).toBeDefined();
    fc.assert(
      fc.property(plain, (init) => {
        const expected = reference(Plain, init);
        expectBytes(encoder.encode(init), expected);
        expectBytes(encoder.encode(create(Plain, init as never)), expected);
        expectBytes(protoCodec.encode(Plain, init as never), expected);
      }),
      { numRuns: 300 },
    );
  });

  it("writes a recursive type (a chain of nodes) as toBinary does", () => {
    const encoder = sizedEncoder(Node)!;
    fc.assert(
      fc.property(node, (init) => {
        const expected = reference(Node, init);
        expectBytes(encoder.encode(init), expected);
        expectBytes(encoder.encode(create(Node, init as never)), expected);
      }),
      { numRuns: 200 },
    );
  });

  it("answers a plain Uint8Array of exactly the message's bytes, which decode to the message", () => {
    const init = { text: "héllo \ud800 wörld", count: 300, status: { code: -2, message: "m" }, maybeFlag: false };
    const bytes = sizedEncoder(Plain)!.encode(init)!;
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(bytes.byteLength).toBe(reference(Plain, init).byteLength);
    expect(fromBinary(Plain, bytes)).toMatchObject({ text: "héllo \ufffd wörld", count: 300, status: { code: -2, message: "m" }, maybeFlag: false });
  });

  it("writes explicit presence as toBinary does: proto3 optional zeros, proto2 defaults set or left on the prototype", () => {
    const optionalZeros = { maybeText: "", maybeSmall: 0, maybeFlag: false, status: {} };
    expect(sizedEncoder(Plain)!.encode(optionalZeros)).toEqual(reference(Plain, optionalZeros));
    expect(sizedEncoder(Plain)!.encode(optionalZeros)!.byteLength).toBe(12);
    const encoder = sizedEncoder(Legacy)!;
    const unset = create(Legacy);
    expect(unset["text" as never]).toBe("fallback");
    expect(encoder.encode(unset)).toEqual(toBinary(Legacy, unset));
    expect(encoder.encode(unset)!.byteLength).toBe(0);
    const set = create(Legacy, { text: "fallback", number: 7, flag: true } as never);
    expect(encoder.encode(set)).toEqual(toBinary(Legacy, set));
    expect(encoder.encode(set)!.byteLength).toBeGreaterThan(0);
  });

  it("leaves a type with a field it does not write to toBinary, and protoCodec's bytes are still toBinary's", () => {
    const cases: [string, object][] = [
      ["WithList", { items: ["a", "b"] }],
      ["WithMap", { entries: { a: "1" } }],
      ["WithOneof", { choice: { case: "number", value: 5 } }],
      ["WithInt64", { big: 9007199254740993n }],
      ["WithDouble", { real: 1.5 }],
      ["WithUnplainChild", { plain: { text: "x" }, list: { items: ["y"] } }],
      ["LegacyRequired", { text: "r" }],
    ];
    for (const [name, init] of cases) {
      const desc = schema(name);
      expect(sizedEncoder(desc), name).toBeUndefined();
      expect(protoCodec.encode(desc, init as never), name).toEqual(reference(desc, init));
    }
  });

  it("leaves a message that is not plain to toBinary: unknown fields kept, values out of range or of the wrong type, another type", () => {
    const encoder = sizedEncoder(Plain)!;
    // Field 99 is unknown to Plain: toBinary writes it back, so must protoCodec.
    const withUnknown = fromBinary(Plain, new Uint8Array([0x0a, 0x01, 0x61, 0x98, 0x06, 0x05]));
    expect(withUnknown.$unknown).toHaveLength(1);
    expect(encoder.encode(withUnknown)).toBeUndefined();
    expect(protoCodec.encode(Plain, withUnknown as never)).toEqual(toBinary(Plain, withUnknown));

    for (const init of [{ small: 2 ** 31 }, { small: 1.5 }, { count: -1 }, { count: 2 ** 32 }, { text: 5 }, { blob: "not bytes" }, { flag: 1 }, { status: "x" }]) {
      expect(encoder.encode(init), JSON.stringify(init)).toBeUndefined();
      let expected: Uint8Array | Error;
      try {
        expected = reference(Plain, init);
      } catch (error) {
        expected = error as Error;
      }
      if (expected instanceof Error) expect(() => protoCodec.encode(Plain, init as never)).toThrow(expected.message);
      else expect(protoCodec.encode(Plain, init as never)).toEqual(expected);
    }

    const other = create(Node, { name: "n" } as never);
    expect(encoder.encode(other)).toBeUndefined();
    expect(sizedEncoder(Node)!.encode({ name: "n", leaf: other })).toBeUndefined();
  });

  it("encodes a message whose getter encodes another message of the same type while it is measured", () => {
    const encoder = sizedEncoder(Plain)!;
    const inner = { text: "inner", count: 3 };
    let innerBytes: Uint8Array | undefined;
    const outer = {
      small: -5,
      get text(): string {
        innerBytes = encoder.encode(inner);
        return "outer";
      },
      count: 9,
    };
    expect(encoder.encode(outer)).toEqual(reference(Plain, { text: "outer", small: -5, count: 9 }));
    expect(innerBytes).toEqual(reference(Plain, inner));
  });
});
