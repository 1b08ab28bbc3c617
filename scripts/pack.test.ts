import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `npm run pack` (scripts/pack.js) writes publishable tarballs: built output,
 * types, README and license, the metadata a registry shows, peer dependencies
 * on the protobuf runtime (SPEC §9), and no test or test helper.
 */

const root = fileURLToPath(new URL("..", import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  engines?: { node?: string };
  repository?: { type?: string; url?: string; directory?: string };
  bin?: Record<string, string>;
  main?: string;
  types?: string;
  exports?: Record<string, { types?: string; default?: string }>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const packages = [
  { dir: "runtime", tarball: "dora-runtime-0.1.0.tgz" },
  { dir: "protoc-gen-dora", tarball: "protoc-gen-dora-0.1.0.tgz" },
  { dir: "tiger", tarball: "dora-tiger-0.1.0.tgz" },
];

const out = fs.mkdtempSync(path.join(os.tmpdir(), "dora-pack-"));
let written: string[] = [];

beforeAll(() => {
  // `npm test` has just built everything; pack that build as it is.
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "pack.js"), "--out", out, "--no-build"], { cwd: root, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  written = r.stdout.trim().split("\n");
}, 120_000);

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function list(tarball: string): string[] {
  const r = spawnSync("tar", ["-tzf", path.join(out, tarball)], { encoding: "utf8" });
  expect(r.status).toBe(0);
  return r.stdout.trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
}

function read(tarball: string, file: string): string {
  const r = spawnSync("tar", ["-xzOf", path.join(out, tarball), `package/${file}`], { encoding: "utf8" });
  expect(r.status, `${tarball} has ${file}`).toBe(0);
  return r.stdout;
}

describe("npm run pack", () => {
  it("writes one versioned tarball per published package, named as npm names it", () => {
    expect(written.map((f) => path.basename(f)).sort()).toEqual(packages.map((p) => p.tarball).sort());
    for (const p of packages) {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, p.dir, "package.json"), "utf8")) as PackageJson;
      expect(p.tarball).toBe(`${pkg.name.replace(/^@/, "").replace("/", "-")}-${pkg.version}.tgz`);
    }
  });

  it("keeps dist-packages/ out of git", () => {
    const r = spawnSync("git", ["check-ignore", "-q", "dist-packages/dora-runtime-0.1.0.tgz"], { cwd: root });
    expect(r.status).toBe(0);
  });
});

describe.each(packages)("the tarball of $dir", ({ dir, tarball }) => {
  it("ships no test, test helper or fixture", () => {
    const files = list(tarball);
    expect(files.filter((f) => /(^|\/)(test|tests|test-helpers|__tests__|fixtures)\/|\.(test|spec)\.|usage-check|vitest/.test(f))).toEqual([]);
  });

  it("has README, LICENSE (the repository's), package.json, and a declaration for every JavaScript file", () => {
    const files = list(tarball);
    expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
    expect(read(tarball, "LICENSE")).toBe(fs.readFileSync(path.join(root, "LICENSE"), "utf8"));
    expect(read(tarball, "README.md")).toMatch(/```(ts|yaml)\n/);
    const js = files.filter((f) => f.startsWith("dist/") && f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(0);
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, ".d.ts")))).toEqual([]);
  });

  it("declares what a registry and an installer need, pointing at files it ships", () => {
    const files = list(tarball);
    const pkg = JSON.parse(read(tarball, "package.json")) as PackageJson;
    expect(pkg.license).toBe("Apache-2.0");
    expect(pkg.engines?.node).toBe(">=20.19");
    expect(pkg.repository).toMatchObject({ type: "git", directory: dir });
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/.+\.git$/);
    expect(pkg.exports, "exports").toBeDefined();
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      expect(target.types, `exports["${subpath}"].types`).toMatch(/\.d\.ts$/);
      for (const file of [target.types, target.default]) {
        expect(files, `exports["${subpath}"] -> ${file}`).toContain(file?.replace(/^\.\//, ""));
      }
    }
    for (const bin of Object.values(pkg.bin ?? {})) {
      expect(files).toContain(bin.replace(/^\.\//, ""));
    }
  });

  it("takes @bufbuild/protobuf (and protoplugin) as caret peer dependencies including 2.13, exact versions only for development", () => {
    const pkg = JSON.parse(read(tarball, "package.json")) as PackageJson;
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
    const bufbuild = Object.entries(pkg.peerDependencies ?? {}).filter(([name]) => name.startsWith("@bufbuild/"));
    expect(bufbuild.map(([name]) => name)).toContain("@bufbuild/protobuf");
    for (const [name, range] of bufbuild) {
      // ^2.x.y with x <= 13: every 2.x from 2.13 on, the newest protoc-gen-es on Node 20 (SPEC §9).
      const m = /^\^2\.(\d+)\.\d+$/.exec(range);
      expect(m, `${name}: ${range}`).not.toBeNull();
      expect(Number(m?.[1]), `${name}: ${range}`).toBeLessThanOrEqual(13);
    }
    for (const [name, version] of Object.entries(pkg.devDependencies ?? {})) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
