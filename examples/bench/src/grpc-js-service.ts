import type { ServiceDefinition } from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ReadSecureMessageRequestSchema,
  ReadSecureMessageResponseSchema,
  type ReadSecureMessageRequest,
  type ReadSecureMessageResponse,
  WatchSecureMessageRequestSchema,
  WatchSecureMessageResponseSchema,
  type WatchSecureMessageRequest,
  type WatchSecureMessageResponse,
} from "@dora/tiger/kv/v1";
import { READ_METHOD_PATH, STREAM_METHOD_PATH } from "./workload.js";

/** A Buffer over the same memory as `bytes` (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * grpc-js service definition of `kv.v1.KvService/ReadSecureMessage` (and
 * the server-streaming `WatchSecureMessage`) whose
 * serializers are protobuf-es's, on tiger's generated messages: the same
 * schema and bytes as every other system of the comparison. grpc-js's
 * documented way to use another protobuf library (a `ServiceDefinition`
 * with its own serialize/deserialize functions, as grpc-tools' static
 * codegen emits).
 */
export const kvServiceDefinition = {
  readSecureMessage: {
    path: READ_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: ReadSecureMessageRequest) => asBuffer(toBinary(ReadSecureMessageRequestSchema, message)),
    requestDeserialize: (bytes: Buffer) => fromBinary(ReadSecureMessageRequestSchema, bytes),
    responseSerialize: (message: ReadSecureMessageResponse) => asBuffer(toBinary(ReadSecureMessageResponseSchema, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(ReadSecureMessageResponseSchema, bytes),
    originalName: "readSecureMessage",
  },
  watchSecureMessage: {
    path: STREAM_METHOD_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: (message: WatchSecureMessageRequest) => asBuffer(toBinary(WatchSecureMessageRequestSchema, message)),
    requestDeserialize: (bytes: Buffer) => fromBinary(WatchSecureMessageRequestSchema, bytes),
    responseSerialize: (message: WatchSecureMessageResponse) => asBuffer(toBinary(WatchSecureMessageResponseSchema, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(WatchSecureMessageResponseSchema, bytes),
    originalName: "watchSecureMessage",
  },
} satisfies ServiceDefinition;
