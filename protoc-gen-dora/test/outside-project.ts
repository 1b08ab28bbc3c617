import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.js";

/**
 * dora as a user meets it: a project outside this repository. Test helper of
 * outside-project-ts6.test.ts and outside-project-ts7.test.ts (two files, so
 * the two runs can take a core each).
 *
 * In a temporary directory, the steps of docs/codegen.md "Getting started"
 * run word by word — the doc's commands and files, taken from the doc itself
 * so the two cannot drift — with the tarballs `npm run pack` makes and
 * everything else from the npm registry (npm's cache serves repeated
 * downloads). Then, in the same project, the shop protos of outside/ (two
 * packages, cross-file imports, Timestamp and Empty, enums, nested messages,
 * several services per file) are generated with every target, import
 * extension and import style, type-checked strictly, and run: a server and a
 * client of every method, a typed error code and a deadline (outside/app.ts).
 *
 * It runs twice: TypeScript 7 (what `npm i -D typescript` installs today) with
 * @bufbuild/protobuf 2.13.0, and TypeScript 6.0 with @bufbuild/protobuf 2.17.0,
 * both ends of the runtime's peer range (SPEC §9). The only changes to the
 * doc's commands are these two package versions.
 */

const doc = path.join(repoRoot, "docs", "codegen.md");
const fixtures = path.join(repoRoot, "protoc-gen-dora", "test", "outside");
const children = new Set<ChildProcess>();

/** One step of the guide, in document order. */
type Step =
  | { kind: "pack" }
  | { kind: "run"; script: string; needs?: string }
  | { kind: "start"; command: string }
  | { kind: "file"; path: string; content: string }
  | { kind: "output"; text: string };

/** The steps of "Getting started": fenced blocks after a `<!-- getting-started: … -->` marker. */
function guideSteps(): Step[] {
  const markdown = fs.readFileSync(doc, "utf8");
  const section = markdown.slice(markdown.indexOf("## Getting started"), markdown.indexOf("\n## ", markdown.indexOf("## Getting started") + 1));
  const steps: Step[] = [];
  for (const m of section.matchAll(/<!-- getting-started: ([^>]*?) -->\n```[a-z]*\n([\s\S]*?)```/g)) {
    const [, marker = "", body = ""] = m;
    if (marker === "pack") steps.push({ kind: "pack" });
    else if (marker === "run") steps.push({ kind: "run", script: body });
    else if (marker === "run if protoc is installed") steps.push({ kind: "run", script: body, needs: "protoc" });
    else if (marker === "start") steps.push({ kind: "start", command: body.trim() });
    else if (marker === "output") steps.push({ kind: "output", text: body });
    else if (marker.startsWith("file ")) steps.push({ kind: "file", path: marker.slice("file ".length), content: body });
    else throw new Error(`docs/codegen.md: unknown getting-started marker "${marker}"`);
  }
  return steps;
}

/**
 * The environment of the user's shell: no npm script variables (`npm test`
 * sets npm_config_* that would point npm at this repository) and no
 * node_modules/.bin of this repository on the PATH.
 */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== "INIT_CWD" && k !== "NODE_OPTIONS" && !k.startsWith("VITEST")) env[k] = v;
  }
  env["PATH"] = (process.env["PATH"] ?? "").split(path.delimiter).filter((p) => !p.includes("node_modules")).join(path.delimiter);
  // Cached packages are used without asking the registry again.
  env["npm_config_prefer_offline"] = "true";
  env["npm_config_audit"] = "false";
  env["npm_config_fund"] = "false";
  env["npm_config_update_notifier"] = "false";
  return { ...env, ...extra };
}

/** Runs a shell script in `cwd`; returns its stdout and the directory it ended in. */
function sh(script: string, cwd: string, env: NodeJS.ProcessEnv): { stdout: string; cwd: string } {
  const r = spawnSync("bash", ["-euo", "pipefail", "-c", `${script}\npwd >&3`], { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const output = r.output as (string | null)[];
  if (r.status !== 0) {
    throw new Error(`in ${cwd}:\n${script}\nexited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, cwd: (output[3] ?? "").trim() || cwd };
}

/** Starts `command` (its own process: `exec`), resolves with its first stdout line. */
function start(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; first: string; lines: string[] }> {
  const child = spawn("bash", ["-c", `exec ${command}`], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  const lines: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${command} exited with ${code} before printing a line: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (lines.length === 1) resolve({ child, first: line, lines });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/**
 * The strict options of the guide's tsconfig.json, less the checking of
 * TypeScript's own lib files (nobody's code here, and most of the time).
 */
const tsconfigBase = {
  target: "ES2022",
  skipDefaultLibCheck: true,
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  types: ["node"],
};

/** The flavours of generated code the shop app is built against, in matrix/<name>/. */
const flavours = [
  { name: "ts-js", opt: "target=ts, import_extension=js" },
  { name: "ts-none", opt: "target=ts" },
  { name: "default", opt: "" },
  { name: "jsdts-js", opt: "target=js+dts, import_extension=js" },
  { name: "js-js", opt: "target=js, import_extension=js" },
  { name: "cjs", opt: "target=js+dts, import_extension=js, js_import_style=legacy_commonjs" },
];

/**
 * Defines the tests of one outside project, with the given exact versions of
 * TypeScript and @bufbuild/protobuf.
 */
export function describeOutsideProject(typescript: string, protobuf: string): void {
describe(`an outside project with TypeScript ${typescript} and @bufbuild/protobuf ${protobuf}`, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `dora-outside-ts${typescript}-`));
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
    fs.rmSync(root, { recursive: true, force: true });
  });
  const dora = path.join(root, "dora");
  let project = "";
  let env: NodeJS.ProcessEnv = {};
  const tsc = (args: string[], cwd: string): void => {
    const r = spawnSync(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), ...args], { cwd, env, encoding: "utf8" });
    expect(r.stdout + r.stderr, `tsc ${args.join(" ")}`).toBe("");
    expect(r.status).toBe(0);
  };
  const node = (file: string, cwd: string): string => {
    const r = spawnSync(process.execPath, [file], { cwd, env, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr, `node ${file} in ${cwd}`).toBe("");
    expect(r.status).toBe(0);
    return r.stdout;
  };

  it("follows docs/codegen.md \"Getting started\" word by word: install, generate, type-check, serve, call", async () => {
    fs.mkdirSync(dora, { recursive: true });
    env = userEnv({ DORA: dora });
    let cwd = root;
    let server: { child: ChildProcess; first: string; lines: string[] } | undefined;
    let lastStdout = "";
    const steps = guideSteps();
    expect(steps.map((s) => s.kind)).toEqual(expect.arrayContaining(["pack", "run", "file", "start", "output"]));
    for (const step of steps) {
      switch (step.kind) {
        case "pack": {
          // What `npm run pack` runs, on the build `npm test` has just made.
          const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts", "pack.js"), "--out", path.join(dora, "dist-packages"), "--no-build"], { cwd: repoRoot, encoding: "utf8" });
          expect(r.stderr).toBe("");
          expect(r.status).toBe(0);
          break;
        }
        case "run": {
          if (step.needs === "protoc" && spawnSync("protoc", ["--version"]).error !== undefined) break;
          // The two versions this run is about; every other word as written.
          const script = step.script
            .replace(/(^|\s)typescript(?=\s|$)/gm, `$1typescript@${typescript}`)
            .replace(/@bufbuild\/protobuf@2\.13\.0/g, `@bufbuild/protobuf@${protobuf}`);
          const r = sh(script, cwd, server === undefined ? env : { ...env, ADDRESS: server.first.replace(/^.* on /, "") });
          cwd = r.cwd;
          lastStdout = r.stdout;
          if (project === "" && fs.existsSync(path.join(cwd, "package.json"))) project = cwd;
          break;
        }
        case "file":
          fs.mkdirSync(path.dirname(path.join(cwd, step.path)), { recursive: true });
          fs.writeFileSync(path.join(cwd, step.path), step.content);
          break;
        case "start":
          server = await start(step.command, cwd, { ...env, PORT: "0" });
          expect(server.first).toMatch(/^serving greet\.v1\.GreetService on 127\.0\.0\.1:\d+$/);
          break;
        case "output":
          expect(lastStdout).toBe(step.text);
          break;
      }
    }
    expect(project).toBe(path.join(root, "greet"));
    // The versions asked for, and one @bufbuild/protobuf for the app and the runtime.
    const version = (pkg: string): string => (JSON.parse(fs.readFileSync(path.join(project, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
    expect(version("typescript")).toBe(typescript);
    expect(version("@bufbuild/protobuf")).toBe(protobuf);
    expect(fs.existsSync(path.join(project, "node_modules", "@dora", "runtime", "node_modules", "@bufbuild", "protobuf"))).toBe(false);
    // Every call was logged by the server's interceptor; SIGTERM closes it gracefully.
    expect(server).toBeDefined();
    server!.child.kill("SIGTERM");
    expect(await exited(server!.child)).toBe(0);
    expect(server!.lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^\/greet\.v1\.GreetService\/Greet [0-9a-f-]{36}: Ok$/),
      expect.stringMatching(/^\/greet\.v1\.GreetService\/Greet [0-9a-f-]{36}: BadRequest$/),
    ]);
  }, 300_000);

  it("generates the shop protos with every target and import style; they and the README examples type-check strictly and run", () => {
    expect(project, "the guide ran").not.toBe("");
    // Tools are called directly here (npx costs a second of CPU a call); the guide above uses npx.
    const tools = { ...env, PATH: [path.join(project, "node_modules", ".bin"), env["PATH"]].join(path.delimiter) };

    // The README examples: @dora/runtime's and @dora/tiger's beside the guide's code, protoc-gen-dora's buf.gen.yaml.
    sh(`npm install "$DORA/dist-packages/dora-tiger-0.1.0.tgz"`, project, env);
    const example = (readme: string, name: string): string => {
      const m = new RegExp(`<!-- example: ${name.replace(/\./g, "\\.")} -->\\n\`\`\`[a-z]+\\n([\\s\\S]*?)\`\`\``).exec(fs.readFileSync(path.join(repoRoot, readme), "utf8"));
      expect(m, `${readme} has the example ${name}`).not.toBeNull();
      return m?.[1] ?? "";
    };
    fs.writeFileSync(path.join(project, "src", "runtime-readme.ts"), example("runtime/README.md", "runtime-readme.ts"));
    fs.writeFileSync(path.join(project, "src", "tiger-readme.ts"), example("tiger/README.md", "tiger-readme.ts"));
    const readmeGen = path.join(project, "readme-gen");
    fs.mkdirSync(readmeGen);
    fs.cpSync(path.join(project, "proto"), path.join(readmeGen, "proto"), { recursive: true });
    fs.writeFileSync(path.join(readmeGen, "buf.gen.yaml"), example("protoc-gen-dora/README.md", "buf.gen.yaml"));
    sh("buf generate", readmeGen, tools);
    for (const file of ["greet/v1/greet_pb.ts", "greet/v1/greet_dora.ts"]) {
      expect(fs.readFileSync(path.join(readmeGen, "src", "gen", file), "utf8"), file).toBe(fs.readFileSync(path.join(project, "src", "gen", file), "utf8"));
    }

    // The shop protos, in every flavour, with one buf generate.
    const dir = path.join(project, "matrix");
    fs.cpSync(path.join(fixtures, "proto"), path.join(dir, "proto"), { recursive: true });
    fs.writeFileSync(path.join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n");
    fs.writeFileSync(path.join(dir, "buf.gen.yaml"), [
      "version: v2",
      "plugins:",
      ...flavours.flatMap(({ name, opt }) =>
        ["protoc-gen-es", "protoc-gen-dora"].flatMap((plugin) => [`  - local: ${plugin}`, `    out: ${name}/gen`, `    strategy: all`, `    opt: [${opt}]`])),
      "",
    ].join("\n"));
    sh("buf generate", dir, tools);
    for (const { name } of flavours) {
      if (name !== "js-js") fs.copyFileSync(path.join(fixtures, "app.ts"), path.join(dir, name, "app.ts"));
    }
    expect(fs.readdirSync(path.join(dir, "default", "gen", "shop", "order", "v1")).sort()).toEqual([
      "admin_dora.d.ts", "admin_dora.js", "admin_pb.d.ts", "admin_pb.js", "order_dora.d.ts", "order_dora.js", "order_pb.d.ts", "order_pb.js",
    ]);
    fs.writeFileSync(path.join(dir, "cjs", "package.json"), `{ "type": "commonjs" }\n`);
    const tsconfig = (file: string, compilerOptions: object, include: string[]): void =>
      fs.writeFileSync(path.join(dir, file), JSON.stringify({ compilerOptions: { ...tsconfigBase, ...compilerOptions }, include }, null, 2));
    // Node's resolution (import_extension=js), compiled in place: TypeScript
    // output, declarations beside JavaScript, a CommonJS package (where
    // verbatimModuleSyntax would forbid import statements; the bundler program
    // checks the same TypeScript output under it), and the README examples.
    tsconfig("tsconfig.node.json", { module: "NodeNext" }, ["ts-js", "jsdts-js/app.ts", "cjs/app.ts", "../src/runtime-readme.ts", "../src/tiger-readme.ts"]);
    // A bundler's resolution (no import extension): the default options, and TypeScript output.
    tsconfig("tsconfig.bundler.json", { module: "Preserve", moduleResolution: "Bundler", verbatimModuleSyntax: true, noEmit: true }, ["ts-none", "default/app.ts"]);
    for (const config of ["tsconfig.node.json", "tsconfig.bundler.json"]) tsc(["-p", config], dir);
    // target=js has no declarations: it runs the JavaScript compiled against target=js+dts.
    fs.copyFileSync(path.join(dir, "jsdts-js", "app.js"), path.join(dir, "js-js", "app.js"));
    const calls = "ok GetProduct GetProduct:NotFound ListProducts UpdatedAt PlaceOrder GetOrder CancelOrder CancelOrder:1001 FirstLine Now Wait Wait:DeadlineExceeded Count Tail Tally Relay descriptors\n";
    for (const name of ["ts-js", "jsdts-js", "js-js", "cjs"]) {
      expect(node("app.js", path.join(dir, name)), name).toBe(calls);
    }
    expect(node(path.join("src", "runtime-readme.js"), project)).toBe("Hello, dora!\n");
  }, 300_000);
});
}
