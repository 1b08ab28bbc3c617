/**
 * The streaming test service compiled from stream.proto beside this file,
 * with typed descriptors so tests need no generated code and no casts.
 * Internal module (excluded from the build).
 */
import type { DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import path from "node:path";
import { loadProto, runtimeSrc } from "./load-proto.js";

const registry = loadProto(path.join(runtimeSrc, "test-helpers"), "stream.proto");

/** `dora.test.v1.Item { uint32 n = 1; string text = 2; bytes blob = 3; }` */
export type Item = Message<"dora.test.v1.Item"> & { n: number; text: string; blob: Uint8Array };
export const ItemSchema = registry.getMessage("dora.test.v1.Item") as unknown as GenMessage<Item>;
/** Unary, Down (server-streaming), Up (client-streaming) and Both (bidirectional), all on Item. */
export const StreamService: DescService = registry.getService("dora.test.v1.StreamService")!;

function method(name: string): unknown {
  return StreamService.methods.find((m) => m.name === name)!;
}

export const Unary = method("Unary") as DescMethodUnary<typeof ItemSchema, typeof ItemSchema>;
export const Down = method("Down") as DescMethodServerStreaming<typeof ItemSchema, typeof ItemSchema>;
export const Up = method("Up") as DescMethodClientStreaming<typeof ItemSchema, typeof ItemSchema>;
export const Both = method("Both") as DescMethodBiDiStreaming<typeof ItemSchema, typeof ItemSchema>;
