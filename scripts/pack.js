#!/usr/bin/env node
// `npm run pack`: builds the publishable packages (@dora/runtime,
// protoc-gen-dora, @dora/tiger) from a clean state and writes one tarball per
// package, named `<name>-<version>.tgz` as npm names them, to dist-packages/
// (git-ignored). Each tarball is what `npm publish <tarball>` would upload; until
// the packages are on the registry, projects install them from these files
// (docs/codegen.md, "Getting started").
//
// Usage: node scripts/pack.js [--out DIR] [--no-build]
//   --out DIR    write the tarballs to DIR instead of dist-packages/
//   --no-build   pack the current build output as it is (the tests do, after
//                `npm test` has built everything); by default the three
//                packages' dist/ folders are removed and rebuilt first, so no
//                stale file of an earlier build is shipped.
// Prints the path of every tarball written, one a line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The workspaces that are published, as directories of the repository. */
export const publishedPackages = ["runtime", "protoc-gen-dora", "tiger"];

function parseArgs(argv) {
  let out = path.join(root, "dist-packages");
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--out" && i + 1 < argv.length) {
      out = path.resolve(argv[++i]);
    } else if (arg.startsWith("--out=")) {
      out = path.resolve(arg.slice("--out=".length));
    } else if (arg === "--no-build") {
      build = false;
    } else {
      throw new Error(`pack: unknown argument ${JSON.stringify(arg)} (usage: node scripts/pack.js [--out DIR] [--no-build])`);
    }
  }
  return { out, build };
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.error) throw new Error(`pack: cannot run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`pack: ${command} ${args.join(" ")} failed with exit code ${r.status}`);
  return r.stdout;
}

try {
  const { out, build } = parseArgs(process.argv.slice(2));
  if (build) {
    for (const dir of publishedPackages) {
      fs.rmSync(path.join(root, dir, "dist"), { recursive: true, force: true });
      fs.rmSync(path.join(root, dir, "tsconfig.tsbuildinfo"), { force: true });
    }
    run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-b", ...publishedPackages]);
  }
  fs.mkdirSync(out, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const json = run(npm, ["pack", "--json", "--pack-destination", out, ...publishedPackages.flatMap((dir) => ["--workspace", dir])]);
  for (const tarball of JSON.parse(json)) {
    console.log(path.join(out, tarball.filename));
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
