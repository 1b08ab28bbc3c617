/**
 * Compiles .proto files with protoc at test time and returns their registry,
 * so tests take descriptors from real schemas rather than hand-built ones.
 * Internal module (excluded from the build).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** Compiles `file` (relative to `includeDir`) and everything it imports; throws with protoc's message on failure. */
export function loadProto(includeDir: string, file: string): FileRegistry {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-proto-"));
  try {
    const out = path.join(dir, "set.binpb");
    const r = spawnSync("protoc", [`--proto_path=${includeDir}`, "--include_imports", `--descriptor_set_out=${out}`, file], { encoding: "utf8" });
    if (r.error !== undefined) throw new Error(`cannot run protoc (apt-get install protobuf-compiler): ${r.error.message}`);
    if (r.status !== 0) throw new Error(`protoc ${file} failed: ${r.stderr}`);
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, fs.readFileSync(out)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The runtime's src/ directory. */
export const runtimeSrc = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
