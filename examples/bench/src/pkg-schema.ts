import { create, createFileRegistry, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * protobuf-es descriptors of the dora envelope (SPEC §3.2):
 * `Head { int32 version = 1; string serialize_type = 2; uint64 seq = 3;
 * string method = 4; map<string, string> meta = 5; }` and
 * `Pkg { Head head = 1; bytes payload = 2; }`, built from a
 * FileDescriptorProto so the raw-socket bound encodes the envelope with
 * protobuf-es, with no generated code.
 */
const OPTIONAL = FieldDescriptorProto_Label.OPTIONAL;
const REPEATED = FieldDescriptorProto_Label.REPEATED;
const { INT32, STRING, UINT64, MESSAGE, BYTES } = FieldDescriptorProto_Type;

const file = create(FileDescriptorProtoSchema, {
  name: "dora/bench/v1/pkg.proto",
  package: "dora.bench.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "Head",
      field: [
        { name: "version", number: 1, type: INT32, label: OPTIONAL, jsonName: "version" },
        { name: "serialize_type", number: 2, type: STRING, label: OPTIONAL, jsonName: "serializeType" },
        { name: "seq", number: 3, type: UINT64, label: OPTIONAL, jsonName: "seq" },
        { name: "method", number: 4, type: STRING, label: OPTIONAL, jsonName: "method" },
        { name: "meta", number: 5, type: MESSAGE, label: REPEATED, typeName: ".dora.bench.v1.Head.MetaEntry", jsonName: "meta" },
      ],
      nestedType: [
        {
          name: "MetaEntry",
          field: [
            { name: "key", number: 1, type: STRING, label: OPTIONAL, jsonName: "key" },
            { name: "value", number: 2, type: STRING, label: OPTIONAL, jsonName: "value" },
          ],
          options: { mapEntry: true },
        },
      ],
    },
    {
      name: "Pkg",
      field: [
        { name: "head", number: 1, type: MESSAGE, label: OPTIONAL, typeName: ".dora.bench.v1.Head", jsonName: "head" },
        { name: "payload", number: 2, type: BYTES, label: OPTIONAL, jsonName: "payload" },
      ],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

function message(name: string): DescMessage {
  const desc = registry.getMessage(name);
  if (desc === undefined) throw new Error(`missing message ${name}`);
  return desc;
}

/** A decoded `Head`. */
export type Head = Message<"dora.bench.v1.Head"> & {
  version: number;
  serializeType: string;
  seq: bigint;
  method: string;
  meta: { [key: string]: string };
};

/** A decoded `Pkg`. */
export type Pkg = Message<"dora.bench.v1.Pkg"> & {
  head?: Head | undefined;
  payload: Uint8Array;
};

/** Descriptor of `Pkg` (use with protobuf-es `toBinary` / `fromBinary`). */
export const PkgSchema = message("dora.bench.v1.Pkg") as GenMessage<Pkg>;
