import { describe, expect, it } from "vitest";
import { jsonCodec, protoCodec, type Codec } from "./codec.js";
import { CodecRegistry } from "./codec-registry.js";
import { EchoRequestSchema, EchoResponseSchema } from "./test-helpers/echo-service.js";

const request = { text: "héllo", delayMs: 5, blob: new Uint8Array([0, 255, 7]) };

describe("codecs", () => {
  it("proto round-trips a message and writes protobuf binary", () => {
    const bytes = protoCodec.encode(EchoRequestSchema, request as never);
    expect(Buffer.from(bytes.subarray(0, 2)).toString("hex")).toBe("0a06"); // field 1, 6 bytes of UTF-8
    expect(protoCodec.decode(EchoRequestSchema, bytes)).toMatchObject(request);
  });

  it("json writes the canonical proto3 JSON mapping and reads it back", () => {
    const bytes = jsonCodec.encode(EchoResponseSchema, { text: "a", count: 9007199254740993n } as never);
    expect(JSON.parse(Buffer.from(bytes).toString("utf8"))).toEqual({ text: "a", count: "9007199254740993" });
    const back = jsonCodec.decode(EchoRequestSchema, jsonCodec.encode(EchoRequestSchema, request as never));
    expect(back).toMatchObject(request);
    expect(JSON.parse(Buffer.from(jsonCodec.encode(EchoRequestSchema, request as never)).toString())).toEqual({ text: "héllo", delayMs: 5, blob: "AP8H" });
  });

  it("json ignores unknown fields and rejects malformed input", () => {
    expect(jsonCodec.decode(EchoRequestSchema, Buffer.from('{"text":"x","extra":1}'))).toMatchObject({ text: "x" });
    expect(() => jsonCodec.decode(EchoRequestSchema, Buffer.from("{not json"))).toThrow();
    expect(() => jsonCodec.decode(EchoRequestSchema, Buffer.from([0xff, 0xfe]))).toThrow();
  });

  it("proto rejects bytes that are not the message", () => {
    expect(() => protoCodec.decode(EchoRequestSchema, new Uint8Array([0x0a, 0x09, 0x41]))).toThrow();
  });

  it("registry holds proto and json, maps an empty name to proto, and takes more", () => {
    const upper: Codec = {
      name: "upper",
      encode: (schema, message) => jsonCodec.encode(schema, message),
      decode: (schema, bytes) => jsonCodec.decode(schema, bytes),
    };
    const registry = new CodecRegistry([upper]);
    expect(registry.get("")).toBe(protoCodec);
    expect(registry.get("proto")).toBe(protoCodec);
    expect(registry.get("json")).toBe(jsonCodec);
    expect(registry.get("upper")).toBe(upper);
    expect(registry.get("xml")).toBeUndefined();
    expect(() => registry.add({ ...upper, name: "" })).toThrow("codec name must not be empty");
  });
});
