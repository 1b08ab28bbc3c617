/**
 * Test helpers for protoc-gen-dora: compile inline protos with buf and run
 * the plugin on the resulting CodeGeneratorRequest. Internal to the tests.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema, type CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import { protocGenDora } from "../src/index.js";

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The buf binary installed by @bufbuild/buf. */
export const bufBin = path.join(repoRoot, "node_modules", ".bin", "buf");

/** The committed plugin shim (imports protoc-gen-dora/dist). */
export const pluginBin = path.join(repoRoot, "protoc-gen-dora", "bin", "protoc-gen-dora");

/** Makes a fresh temporary directory; the caller removes it. */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dora-${prefix}-`));
}

/**
 * Compiles `files` (path → proto source) with `buf build` and returns a
 * CodeGeneratorRequest that asks for `toGenerate` (default: every given file)
 * with the plugin parameter `parameter`.
 */
export function compileRequest(files: Record<string, string>, parameter = "target=ts", toGenerate?: string[]): CodeGeneratorRequest {
  const dir = makeTempDir("proto");
  try {
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    const r = spawnSync(bufBin, ["build", dir, "-o", "-"], { maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      throw new Error(`buf build failed: ${r.stderr.toString()}`);
    }
    // A buf image is wire-compatible with a FileDescriptorSet, files in
    // topological order, imports (well-known types included) first.
    const set = fromBinary(FileDescriptorSetSchema, r.stdout);
    return create(CodeGeneratorRequestSchema, {
      fileToGenerate: toGenerate ?? Object.keys(files),
      parameter,
      protoFile: set.file,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs protoc-gen-dora on inline protos; returns generated file name → content. */
export function generate(files: Record<string, string>, parameter = "target=ts", toGenerate?: string[]): Map<string, string> {
  const response = protocGenDora.run(compileRequest(files, parameter, toGenerate));
  if (response.error !== undefined && response.error !== "") {
    throw new Error(response.error);
  }
  return new Map(response.file.map((f) => [f.name, f.content]));
}

/** Lists every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}
