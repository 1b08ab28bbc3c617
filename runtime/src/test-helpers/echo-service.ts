/**
 * Test services compiled from echo.proto beside this file, with typed
 * descriptors so tests need no generated code and no casts.
 * Internal module (excluded from the build).
 */
import type { DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import path from "node:path";
import { loadProto, runtimeSrc } from "./load-proto.js";

const registry = loadProto(path.join(runtimeSrc, "test-helpers"), "echo.proto");

/** `dora.test.v1.EchoRequest { string text = 1; uint32 delay_ms = 2; bytes blob = 3; }` */
export type EchoRequest = Message<"dora.test.v1.EchoRequest"> & { text: string; delayMs: number; blob: Uint8Array };
/** `dora.test.v1.EchoResponse { string text = 1; int64 count = 2; }` */
export type EchoResponse = Message<"dora.test.v1.EchoResponse"> & { text: string; count: bigint };

export const EchoRequestSchema = registry.getMessage("dora.test.v1.EchoRequest") as unknown as GenMessage<EchoRequest>;
export const EchoResponseSchema = registry.getMessage("dora.test.v1.EchoResponse") as unknown as GenMessage<EchoResponse>;
/** Service with Echo, Fail and Shared. */
export const EchoService: DescService = registry.getService("dora.test.v1.EchoService")!;
/** Service with Shared (also in EchoService: an ambiguous bare name) and Other. */
export const OtherService: DescService = registry.getService("dora.test.v1.OtherService")!;

/** A unary method of a test service, by name, typed EchoRequest → EchoResponse. */
export function method(service: DescService, name: string): DescMethodUnary<typeof EchoRequestSchema, typeof EchoResponseSchema> {
  const m = service.methods.find((x) => x.name === name);
  if (m === undefined || m.methodKind !== "unary") throw new Error(`no unary method ${name}`);
  return m as unknown as DescMethodUnary<typeof EchoRequestSchema, typeof EchoResponseSchema>;
}
