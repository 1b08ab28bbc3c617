#!/usr/bin/env node
// `npm run generate` (after `npm run build`): regenerates every committed
// generated file with buf and the local plugins (protoc-gen-es, protoc-gen-dora):
//   - buf.gen.yaml                       tiger/         -> tiger/gen
//   - protoc-gen-dora/test/buf.gen.yaml  test/proto/    -> protoc-gen-dora/test/gen
// Stale generated files (*_pb.ts, *_dora.ts) are removed first, so a deleted
// proto leaves nothing behind; hand-written files such as tiger/gen/kv/v1/index.ts
// are kept.
//
// Usage: node scripts/generate.js [--output DIR]
//   --output DIR  generate under DIR instead of the repository (DIR/tiger/gen,
//                 DIR/protoc-gen-dora/test/gen); used by the reproducibility test.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const buf = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "buf.cmd" : "buf");

/** The generation sets: buf template and the output directory it writes. */
const sets = [
  { template: "buf.gen.yaml", out: "tiger/gen" },
  { template: "protoc-gen-dora/test/buf.gen.yaml", out: "protoc-gen-dora/test/gen" },
];

function parseArgs(argv) {
  let output;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--output" && i + 1 < argv.length) {
      output = path.resolve(argv[++i]);
    } else if (arg.startsWith("--output=")) {
      output = path.resolve(arg.slice("--output=".length));
    } else {
      throw new Error(`generate: unknown argument ${JSON.stringify(arg)} (usage: node scripts/generate.js [--output DIR])`);
    }
  }
  return { output };
}

function removeGenerated(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeGenerated(p);
      if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
    } else if (/_(pb|dora)\.(ts|js|d\.ts)$/.test(entry.name)) {
      fs.rmSync(p);
    }
  }
}

try {
  const { output } = parseArgs(process.argv.slice(2));
  const dist = path.join(root, "protoc-gen-dora", "dist", "index.js");
  if (!fs.existsSync(dist)) {
    throw new Error("generate: protoc-gen-dora is not built (protoc-gen-dora/dist/index.js is missing); run `npm run build` first");
  }
  for (const set of sets) {
    removeGenerated(path.join(output ?? root, set.out));
    const args = ["generate", "--template", set.template];
    if (output !== undefined) args.push("--output", output);
    const r = spawnSync(buf, args, { cwd: root, stdio: "inherit" });
    if (r.error) throw new Error(`generate: cannot run buf: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`generate: buf ${args.join(" ")} failed with exit code ${r.status}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
