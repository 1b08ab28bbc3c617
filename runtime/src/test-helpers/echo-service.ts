/**
 * Test-only services built from a hand-written FileDescriptorProto, the same
 * descriptor shape protoc-gen-es emits, so runtime tests need no generated code.
 * Internal module (excluded from the build).
 */
import { create, createFileRegistry, type DescMessage, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

const T = FieldDescriptorProto_Type;
const L = FieldDescriptorProto_Label.OPTIONAL;

const file = create(FileDescriptorProtoSchema, {
  name: "dora/test/v1/echo.proto",
  package: "dora.test.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "EchoRequest",
      field: [
        { name: "text", number: 1, type: T.STRING, label: L, jsonName: "text" },
        { name: "delay_ms", number: 2, type: T.UINT32, label: L, jsonName: "delayMs" },
        { name: "blob", number: 3, type: T.BYTES, label: L, jsonName: "blob" },
      ],
    },
    {
      name: "EchoResponse",
      field: [
        { name: "text", number: 1, type: T.STRING, label: L, jsonName: "text" },
        { name: "count", number: 2, type: T.INT64, label: L, jsonName: "count" },
      ],
    },
  ],
  service: [
    {
      name: "EchoService",
      method: [
        { name: "Echo", inputType: ".dora.test.v1.EchoRequest", outputType: ".dora.test.v1.EchoResponse" },
        { name: "Fail", inputType: ".dora.test.v1.EchoRequest", outputType: ".dora.test.v1.EchoResponse" },
        { name: "Shared", inputType: ".dora.test.v1.EchoRequest", outputType: ".dora.test.v1.EchoResponse" },
      ],
    },
    {
      name: "OtherService",
      method: [
        { name: "Shared", inputType: ".dora.test.v1.EchoRequest", outputType: ".dora.test.v1.EchoResponse" },
        { name: "Other", inputType: ".dora.test.v1.EchoRequest", outputType: ".dora.test.v1.EchoResponse" },
      ],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

/** `dora.test.v1.EchoRequest { string text = 1; uint32 delay_ms = 2; bytes blob = 3; }` */
export const EchoRequestSchema = registry.getMessage("dora.test.v1.EchoRequest")! as DescMessage;
/** `dora.test.v1.EchoResponse { string text = 1; int64 count = 2; }` */
export const EchoResponseSchema = registry.getMessage("dora.test.v1.EchoResponse")! as DescMessage;
/** Service with Echo, Fail and Shared. */
export const EchoService: DescService = registry.getService("dora.test.v1.EchoService")!;
/** Service with Shared (also in EchoService: an ambiguous bare name) and Other. */
export const OtherService: DescService = registry.getService("dora.test.v1.OtherService")!;

export interface EchoRequest {
  text: string;
  delayMs: number;
  blob: Uint8Array;
}
export interface EchoResponse {
  text: string;
  count: bigint;
}

/** A unary method of a test service, by name. */
export function method(service: DescService, name: string): DescMethodUnary {
  const m = service.methods.find((x) => x.name === name);
  if (m === undefined || m.methodKind !== "unary") throw new Error(`no unary method ${name}`);
  return m as DescMethodUnary;
}
