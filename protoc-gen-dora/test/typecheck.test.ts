import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Project, type Diagnostic } from "ts-morph";
import { listFiles, repoRoot } from "./helpers.js";

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
import { createEchoServiceClient, registerEchoService, EchoServiceMethodNames, type EchoService } from "./gen/dora/test/v1/services_dora.js";
import type { EchoRequest } from "./gen/dora/test/v1/services_pb.js";
import { createClientClient, registerClient, type Client as ClientService } from "./gen/dora/test/v1/reserved_dora.js";
import { createKvServiceClient, registerKvService, KvServiceDesc, Code, type KvService, type LoginRequest } from "@dora/tiger/kv/v1";

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
  const thing = await createClientClient(client).new({ id: "x" });
  const name: "/dora.test.v1.EchoService/Echo" = EchoServiceMethodNames.echo;
  await client.close();
  await server.close();
  return res.text + String(at.seconds) + tokens.token + thing.id + name + KvServiceDesc.typeName;
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
  });

  it("lets the complete example of docs/codegen.md compile", () => {
    const doc = fs.readFileSync(path.join(repoRoot, "docs/codegen.md"), "utf8");
    const m = /<!-- typecheck: docs-example\.ts -->\n```ts\n([\s\S]*?)\n```/.exec(doc);
    expect(m, "docs/codegen.md has a checked example").not.toBeNull();
    const project = createProject();
    project.addSourceFilesAtPaths(generatedFiles());
    project.createSourceFile(path.join(repoRoot, "protoc-gen-dora/test/docs-example.ts"), m?.[1] ?? "");
    expect(format(project, project.getPreEmitDiagnostics())).toBe("");
  });

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
  });
});
