import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Project } from "ts-morph";
// protoc-gen-es ships CommonJS without an exports map; its plugin object is what its bin runs.
import { protocGenEs } from "@bufbuild/protoc-gen-es/dist/cjs/src/protoc-gen-es-plugin.js";
import { protocGenDora } from "../src/index.js";
import { bufBin, repoRoot } from "./helpers.js";

/**
 * Real-world service protos that nobody here wrote: Google's published APIs,
 * from the npm package google-proto-files (a development dependency). Their
 * services (all unary) use options, resource annotations, long-running
 * operations, field masks, well-known types and messages from other
 * packages. The code protoc-gen-es and protoc-gen-dora generate for them must
 * type-check when resolved from this repository's root, where exactly one
 * @bufbuild/protobuf serves the runtime and the generated code (SPEC §9): two
 * copies would fail every register function with "GenService<…> is not
 * assignable to parameter of type 'DescService'".
 */
const protoRoot = path.join(repoRoot, "node_modules", "google-proto-files");
const services = [
  "google/cloud/secretmanager/v1/service.proto",
  "google/cloud/kms/v1/service.proto",
  "google/cloud/tasks/v2/cloudtasks.proto",
  "google/cloud/scheduler/v1/cloudscheduler.proto",
  "google/cloud/translate/v3/translation_service.proto",
  "google/cloud/redis/v1/cloud_redis.proto",
  "google/cloud/functions/v2/functions.proto",
  "google/cloud/resourcemanager/v3/projects.proto",
  "google/datastore/v1/datastore.proto",
  "google/pubsub/v1/schema.proto",
  "google/iam/v1/iam_policy.proto",
  "google/longrunning/operations.proto",
];

describe("code generated for Google's published service protos", () => {
  it("type-checks with zero diagnostics from the repository root, and registers on a dora server", () => {
    const r = spawnSync(bufBin, ["build", ".", ...services.flatMap((s) => ["--path", s]), "-o", "-"], { cwd: protoRoot, maxBuffer: 64 * 1024 * 1024 });
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    const set = fromBinary(FileDescriptorSetSchema, r.stdout);
    // Everything but the well-known types, which come from @bufbuild/protobuf/wkt.
    const toGenerate = set.file.map((f) => f.name).filter((name) => !name.startsWith("google/protobuf/"));
    const request = create(CodeGeneratorRequestSchema, { fileToGenerate: toGenerate, parameter: "target=ts,import_extension=js", protoFile: set.file });
    const outputs = [protocGenEs.run(request), protocGenDora.run(request)];
    for (const out of outputs) expect(out.error ?? "").toBe("");
    const dora = outputs[1]?.file.map((f) => f.name) ?? [];
    expect(dora).toEqual(expect.arrayContaining(services.map((s) => s.replace(/\.proto$/, "_dora.ts"))));

    const project = new Project({
      tsConfigFilePath: path.join(repoRoot, "tsconfig.base.json"),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false },
    });
    // In memory only, under the repository so @dora/runtime and @bufbuild/protobuf resolve from its root.
    const base = path.join(repoRoot, "protoc-gen-dora", "test", "realworld-gen");
    for (const f of outputs.flatMap((o) => o.file)) project.createSourceFile(path.join(base, f.name), f.content);
    // Each descriptor, imported from its _dora file, is the runtime's DescService.
    const imports = dora.map((name, i) => `import * as s${i} from "./${name.replace(/\.ts$/, ".js")}";`);
    const checks = dora.map((_, i) =>
      `for (const [name, value] of Object.entries(s${i})) if (typeof value === "object" && value !== null && "kind" in value && value.kind === "service") server.register(value as DescService, {}), names.push(name);`);
    project.createSourceFile(path.join(base, "usage.ts"), [
      `import type { DescService } from "@bufbuild/protobuf";`,
      `import { createServer } from "@dora/runtime";`,
      ...imports,
      `import { registerSecretManagerService, SecretManagerService, createSecretManagerServiceClient } from "./google/cloud/secretmanager/v1/service_dora.js";`,
      `export const server = createServer();`,
      `export const names: string[] = [];`,
      ...checks,
      `const descriptor: DescService = SecretManagerService;`,
      `export const secrets: Partial<SecretManagerService> = { async getSecret(request) { return { name: request.name }; } };`,
      `registerSecretManagerService(createServer(), secrets as SecretManagerService);`,
      `export const client = createSecretManagerServiceClient;`,
      `export const typeName: string = descriptor.typeName;`,
    ].join("\n"));
    const diagnostics = project.getPreEmitDiagnostics();
    expect(diagnostics.length, project.formatDiagnosticsWithColorAndContext(diagnostics.slice(0, 5))).toBe(0);
  }, 120_000);
});
