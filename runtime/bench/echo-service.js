// Benchmark service: dora.bench.v1.EchoService/Echo, built from a
// FileDescriptorProto the way protoc-gen-es output is, so the benchmark needs
// no generated code.
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

const L = FieldDescriptorProto_Label.OPTIONAL;
const file = create(FileDescriptorProtoSchema, {
  name: "dora/bench/v1/echo.proto",
  package: "dora.bench.v1",
  syntax: "proto3",
  messageType: [
    { name: "EchoRequest", field: [{ name: "key", number: 1, type: FieldDescriptorProto_Type.STRING, label: L, jsonName: "key" }] },
    {
      name: "EchoResponse",
      field: [
        { name: "status", number: 1, type: FieldDescriptorProto_Type.INT32, label: L, jsonName: "status" },
        { name: "value", number: 2, type: FieldDescriptorProto_Type.STRING, label: L, jsonName: "value" },
      ],
    },
  ],
  service: [{ name: "EchoService", method: [{ name: "Echo", inputType: ".dora.bench.v1.EchoRequest", outputType: ".dora.bench.v1.EchoResponse" }] }],
});
const registry = createFileRegistry(file, () => undefined);
export const EchoService = registry.getService("dora.bench.v1.EchoService");
export const echoMethod = EchoService.methods[0];
