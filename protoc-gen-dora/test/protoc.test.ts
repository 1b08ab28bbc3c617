import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, pluginBin, repoRoot } from "./helpers.js";

/**
 * protoc-gen-dora under plain protoc (SPEC §5). Debian's protoc 3.21 cannot
 * parse editions, so the editions file is covered through buf only. protoc
 * must be on PATH (CI installs Debian's protobuf-compiler).
 */
describe("protoc-gen-dora under plain protoc", () => {
  const out = makeTempDir("protoc");
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it("writes the same files as buf for proto3 and proto2 inputs", () => {
    const cases = [
      { include: "tiger", files: ["kv/v1/kv.proto"], committed: "tiger/gen" },
      { include: "protoc-gen-dora/test/proto", files: ["dora/test/v1/reserved.proto", "dora/test/legacy/v1/legacy.proto", "dora/test/v1/no_service.proto"], committed: "protoc-gen-dora/test/gen" },
    ];
    for (const c of cases) {
      const dest = path.join(out, c.committed);
      fs.mkdirSync(dest, { recursive: true });
      const r = spawnSync("protoc", [
        `--plugin=protoc-gen-dora=${pluginBin}`,
        `--dora_out=${dest}`,
        "--dora_opt=target=ts,import_extension=js",
        `-I${path.join(repoRoot, c.include)}`,
        ...c.files,
      ], { cwd: repoRoot, encoding: "utf8" });
      expect(r.error, "protoc must be on PATH (apt-get install protobuf-compiler)").toBeUndefined();
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      for (const file of c.files) {
        const name = file.replace(/\.proto$/, "_dora.ts");
        const committedPath = path.join(repoRoot, c.committed, name);
        if (!fs.existsSync(committedPath)) {
          expect(fs.existsSync(path.join(dest, name)), `${name} must not be generated`).toBe(false);
          continue;
        }
        expect(fs.readFileSync(path.join(dest, name), "utf8"), name).toBe(fs.readFileSync(committedPath, "utf8"));
      }
    }
  });

  it("reports an unknown option through protoc with its name", () => {
    const r = spawnSync("protoc", [
      `--plugin=protoc-gen-dora=${pluginBin}`,
      `--dora_out=${out}`,
      "--dora_opt=target=ts,flavour=mint",
      `-I${path.join(repoRoot, "tiger")}`,
      "kv/v1/kv.proto",
    ], { cwd: repoRoot, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`invalid option "flavour=mint": unknown option flavour;`);
  });
});
