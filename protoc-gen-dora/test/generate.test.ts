import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { version } from "../src/index.js";
import { bufBin, listFiles, makeTempDir, repoRoot } from "./helpers.js";

/** Directories whose generated files are committed (SPEC §2), and the hand-written files in them. */
const generatedDirs = [
  { dir: "tiger/gen", handWritten: ["kv/v1/index.ts"] },
  { dir: "protoc-gen-dora/test/gen", handWritten: [] as string[] },
];

describe("committed generated code", () => {
  const out = makeTempDir("generate");
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it("is reproduced byte for byte by scripts/generate.js", () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts", "generate.js"), "--output", out], { cwd: repoRoot, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const { dir, handWritten } of generatedDirs) {
      const committed = listFiles(path.join(repoRoot, dir)).filter((f) => !handWritten.includes(f));
      const fresh = listFiles(path.join(out, dir));
      expect(fresh, `files generated into ${dir}`).toEqual(committed);
      for (const file of fresh) {
        const want = fs.readFileSync(path.join(out, dir, file), "utf8");
        const have = fs.readFileSync(path.join(repoRoot, dir, file), "utf8");
        expect(have, `${dir}/${file} differs from its regenerated version: run npm run generate`).toBe(want);
      }
    }
  }, 120_000); // two buf runs with four plugin processes: slow on a busy machine, and they cannot hang

  it("includes a _dora.ts for every proto with a service and none for a proto without", () => {
    const files = listFiles(path.join(repoRoot, "protoc-gen-dora/test/gen"));
    expect(files).toContain("dora/test/v1/services_dora.ts");
    expect(files).toContain("dora/test/v1/reserved_dora.ts");
    expect(files).toContain("dora/test/common/v1/common_dora.ts");
    expect(files).toContain("dora/test/legacy/v1/legacy_dora.ts");
    expect(files).toContain("dora/test/editions/v1/editions_dora.ts");
    expect(files).toContain("dora/test/v1/no_service_pb.ts");
    expect(files).not.toContain("dora/test/v1/no_service_dora.ts");
    expect(files).not.toContain("dora/test/v1/types_dora.ts");
  });
});

describe("protos", () => {
  it("pass buf lint (tiger with the standard rules, the test protos with the minimal ones)", () => {
    const r = spawnSync(bufBin, ["lint"], { cwd: repoRoot, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("version", () => {
  it("matches package.json (it is printed into every generated file)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "protoc-gen-dora", "package.json"), "utf8")) as { version: string };
    expect(version).toBe(pkg.version);
  });
});
