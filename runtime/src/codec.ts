import {
  create,
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { sizedEncoder } from "./sized-encoder.js";

/**
 * Serializes request and response messages. The codec's `name` is what travels
 * in `head.serialize_type` (SPEC §3.2); `"proto"` is the default.
 */
export interface Codec {
  /** Value of `serialize_type` on the wire, e.g. `"proto"`. */
  readonly name: string;
  /** Encodes a message or a message init shape. The bytes may be a view into a larger ArrayBuffer (read `byteOffset` and `byteLength`, not `.buffer` alone). */
  encode<D extends DescMessage>(schema: D, message: MessageInitShape<D>): Uint8Array;
  /** Decodes bytes into a message; throws on malformed input. */
  decode<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D>;
}

/**
 * Protobuf binary encoding (`serialize_type` `"proto"`, also used when it is
 * empty). Messages of the plain types most payloads are made of are measured
 * and written into one buffer of their size (sized-encoder.ts); every other
 * message goes through protobuf-es's `toBinary`. The bytes are the same.
 */
export const protoCodec: Codec = {
  name: "proto",
  encode(schema, message) {
    const bytes = sizedEncoder(schema)?.encode(message);
    return bytes ?? toBinary(schema, create(schema, message));
  },
  decode(schema, bytes) {
    return fromBinary(schema, bytes);
  },
};

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The canonical proto3 JSON mapping (`serialize_type` `"json"`). Unknown fields
 * are ignored when decoding, as proto3 JSON parsers are expected to allow.
 */
export const jsonCodec: Codec = {
  name: "json",
  encode(schema, message) {
    return utf8Encoder.encode(toJsonString(schema, create(schema, message)));
  },
  decode(schema, bytes) {
    return fromJsonString(schema, utf8Decoder.decode(bytes), { ignoreUnknownFields: true });
  },
};
