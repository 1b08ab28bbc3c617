import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ModuleKind, ModuleResolutionKind, Project, type Diagnostic } from "ts-morph";
// protoc-gen-es ships CommonJS without an exports map; its plugin object is what its bin runs.
import { protocGenEs } from "@bufbuild/protoc-gen-es/dist/cjs/src/protoc-gen-es-plugin.js";
import { protocGenDora } from "../src/index.js";
import { compileRequest, listFiles, repoRoot } from "./helpers.js";

/**
 * Every committed generated file type-checks with zero diagnostics under the
 * repository's compiler options (tsconfig.base.json: strict,
 * noUncheckedIndexedAccess, exactOptionalPropertyTypes, verbatimModuleSyntax,
 * NodeNext). `@dora/runtime` resolves to runtime/dist, so the runtime must be
 * built (`npm test` builds first).
 */
function createProject(): Project {
  return new Project({
    tsConfigFilePath: path.join(repoRoot, "tsconfig.base.json"),
    skipAddingFilesFromTsConfig: true,
    compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false },
  });
}

/** Type-checking is CPU-bound: generous on a busy two-core machine, and it cannot hang. */
const typeCheckTimeoutMs = 120_000;

function generatedFiles(): string[] {
  const files: string[] = [];
  for (const dir of ["tiger/gen", "protoc-gen-dora/test/gen"]) {
    files.push(...listFiles(path.join(repoRoot, dir)).filter((f) => f.endsWith(".ts")).map((f) => path.join(repoRoot, dir, f)));
  }
  return files;
}

function format(project: Project, diagnostics: Diagnostic[]): string {
  return project.formatDiagnosticsWithColorAndContext(diagnostics);
}

/** Uses the generated API the way an application does; must compile cleanly. */
const usage = `
import { createClient, createServer, type HandlerContext } from "@dora/runtime";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Empty, Timestamp } from "@bufbuild/protobuf/wkt";
import { createEchoServiceClient, registerEchoService, EchoServiceMethodNames, EchoService } from "./gen/dora/test/v1/services_dora.js";
import type { EchoRequest, EchoService as EchoServiceDescriptor } from "./gen/dora/test/v1/services_pb.js";
import { createClientClient, registerClient, type Client as ClientService } from "./gen/dora/test/v1/reserved_dora.js";
import { createKvServiceClient, registerKvService, KvService, Code, type LoginRequest } from "@dora/tiger/kv/v1";

class Echo implements EchoService {
  async echo(request: EchoRequest, context: HandlerContext) {
    return { text: request.text, seenMeta: { ...context.requestMeta } };
  }
  async fail() {
    return {};
  }
  async now(_request: Empty) {
    return timestampNow();
  }
  async since(_request: Timestamp) {
    return {};
  }
  async oldEcho(request: EchoRequest) {
    return { text: request.text };
  }
}

const kv: KvService = {
  async login(request: LoginRequest) {
    return { status: { code: Code.OK }, token: request.username };
  },
  async writeSecureMessage(request) {
    return { key: request.key, value: request.value };
  },
  async readSecureMessage(request) {
    return { status: { code: Code.KEY_NOT_EXIST, message: request.key } };
  },
  async *watchSecureMessage(request, context) {
    if (!context.signal.aborted) yield { key: request.key, value: "v" };
  },
};

const reserved: ClientService = {
  async delete(t) { return t; },
  async "new"(t) { return t; },
  async constructor$(t) { return t; },
  async toString$(t) { return t; },
};

export async function main(): Promise<string> {
  const server = createServer();
  registerEchoService(server, new Echo());
  registerKvService(server, kv);
  registerClient(server, reserved);
  const { port } = await server.listen({ port: 0 });
  const client = createClient({ address: "127.0.0.1:" + String(port) });
  const echo = createEchoServiceClient(client);
  const res = await echo.echo({ text: "hi" }, { timeoutMs: 100, meta: { a: "b" } });
  const at: Timestamp = await echo.now({});
  const tokens = await createKvServiceClient(client).login({ username: "1", password: "1" });
  let watched = "";
  for await (const w of createKvServiceClient(client).watchSecureMessage({ key: "a" }, { meta: { token: tokens.token } })) {
    watched = w.value;
    break;
  }
  const thing = await createClientClient(client).new({ id: "x" });
  const name: "/dora.test.v1.EchoService/Echo" = EchoServiceMethodNames.echo;
  await client.close();
  await server.close();
  // The descriptor and the interface share their name; the descriptor is protoc-gen-es's own value.
  const descriptor: typeof EchoServiceDescriptor = EchoService;
  const register: (s: typeof server) => void = (s) => s.register(EchoService, new Echo());
  register(createServer());
  return res.text + String(at.seconds) + tokens.token + watched + thing.id + name + KvService.typeName + descriptor.method.echo.name;
}
`;

describe("generated code", () => {
  it("type-checks with zero diagnostics, and so does code that uses it", () => {
    const project = createProject();
    const files = generatedFiles();
    expect(files.length).toBeGreaterThan(10);
    project.addSourceFilesAtPaths(files);
    project.createSourceFile(path.join(repoRoot, "protoc-gen-dora/test/usage-check.ts"), usage);
    const diagnostics = project.getPreEmitDiagnostics();
    expect(format(project, diagnostics)).toBe("");
  }, typeCheckTimeoutMs);

  it("lets the complete example of docs/codegen.md compile", () => {
    const doc = fs.readFileSync(path.join(repoRoot, "docs/codegen.md"), "utf8");
    const m = /<!-- typecheck: docs-example\.ts -->\n```ts\n([\s\S]*?)\n```/.exec(doc);
    expect(m, "docs/codegen.md has a checked example").not.toBeNull();
    const project = createProject();
    project.addSourceFilesAtPaths(generatedFiles());
    project.createSourceFile(path.join(repoRoot, "protoc-gen-dora/test/docs-example.ts"), m?.[1] ?? "");
    expect(format(project, project.getPreEmitDiagnostics())).toBe("");
  }, typeCheckTimeoutMs);

  it("rejects a handler whose response has the wrong shape, and a client call with a wrong request", () => {
    const project = createProject();
    project.addSourceFilesAtPaths(generatedFiles());
    const bad = project.createSourceFile(path.join(repoRoot, "protoc-gen-dora/test/usage-bad.ts"), `
import type { KvService } from "@dora/tiger/kv/v1";
import type { KvServiceClient } from "@dora/tiger/kv/v1";
export const kv: KvService = {
  async login() { return { token: 42 }; },
  async writeSecureMessage() { return {}; },
  async readSecureMessage() { return {}; },
};
export function call(c: KvServiceClient) { return c.login({ user: "1" }); }
`);
    const messages = bad.getPreEmitDiagnostics().map((d) => `${d.getLineNumber() ?? 0}`);
    expect(messages).toEqual(["5", "9"]);
  }, typeCheckTimeoutMs);
});

/** Uses the generated code of the test protos the way an application does, in any module flavour. */
const variantUsage = `
import { createClient, createServer, type HandlerContext } from "@dora/runtime";
import { timestampNow, type Empty, type Timestamp } from "@bufbuild/protobuf/wkt";
import { EchoService, PetService, createEchoServiceClient, createPetServiceClient, registerEchoService, registerPetService } from "./dora/test/v1/services_dora.js";
import { PetStoreService, registerPetStoreService } from "./dora/test/common/v1/common_dora.js";
import type { EchoRequest } from "./dora/test/v1/services_pb.js";

class Echo implements EchoService {
  async echo(request: EchoRequest, context: HandlerContext) { return { text: request.text, seenMeta: { ...context.requestMeta } }; }
  async fail() { return {}; }
  async now(_request: Empty) { return timestampNow(); }
  async since(_request: Timestamp) { return {}; }
  async oldEcho(request: EchoRequest) { return { text: request.text }; }
}
const pets: PetService = {
  async list(request) { return { pets: [], nextPageToken: String(request.pageSize) }; },
  async find() { return {}; },
  async getPet(request) { return { name: request.filter?.namePrefix ?? "" }; },
};
const store: PetStoreService = { async adopt(pet) { return { pets: [pet] }; } };

export async function main(): Promise<string> {
  const server = createServer();
  registerEchoService(server, new Echo());
  registerPetService(server, pets);
  registerPetStoreService(server, store);
  server.register(EchoService, new Echo());
  const { port } = await server.listen({ port: 0 });
  const client = createClient({ address: "127.0.0.1:" + String(port) });
  const text = (await createEchoServiceClient(client).echo({ text: "hi" }, { timeoutMs: 100 })).text;
  const page = await createPetServiceClient(client).list({ pageSize: 2 });
  await client.close();
  await server.close();
  return text + page.nextPageToken + EchoService.typeName + PetService.method.list.name + PetStoreService.typeName;
}
`;

describe("the test protos generated for every target and import style", () => {
  // Module resolution follows the import extension: Node's (NodeNext) needs
  // `.js` in relative imports, a bundler's resolves them without.
  const variants = [
    { parameter: "target=ts,import_extension=js", resolution: "nodenext" },
    { parameter: "target=dts,import_extension=js", resolution: "nodenext" },
    { parameter: "target=ts", resolution: "bundler" },
    { parameter: "target=dts", resolution: "bundler" },
  ] as const;
  const protoDir = path.join(repoRoot, "protoc-gen-dora", "test", "proto");
  const protos = Object.fromEntries(
    listFiles(protoDir).filter((f) => f.endsWith(".proto")).map((f) => [f, fs.readFileSync(path.join(protoDir, f), "utf8")]),
  );

  it.each(variants)("type-check with zero diagnostics, and so does code that uses them: $parameter ($resolution)", ({ parameter, resolution }) => {
    const request = compileRequest(protos, parameter);
    const outputs = [protocGenEs.run(request), protocGenDora.run(request)];
    for (const out of outputs) expect(out.error ?? "").toBe("");
    const project = new Project({
      tsConfigFilePath: path.join(repoRoot, "tsconfig.base.json"),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: {
        noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false,
        ...(resolution === "bundler" ? { module: ModuleKind.Preserve, moduleResolution: ModuleResolutionKind.Bundler } : {}),
      },
    });
    // In memory only, under the repository so @dora/runtime and @bufbuild/protobuf resolve from its root.
    const base = path.join(repoRoot, "protoc-gen-dora", "test", "variant-gen", parameter.replace(/[=,+]/g, "-"));
    const files = outputs.flatMap((o) => o.file);
    expect(files.map((f) => f.name)).toContain(parameter.includes("dts") ? "dora/test/v1/services_dora.d.ts" : "dora/test/v1/services_dora.ts");
    for (const f of files) project.createSourceFile(path.join(base, f.name), f.content);
    project.createSourceFile(path.join(base, "usage.ts"), variantUsage);
    expect(format(project, project.getPreEmitDiagnostics())).toBe("");
  }, typeCheckTimeoutMs);
});
