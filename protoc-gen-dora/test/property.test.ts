import path from "node:path";
import fc from "fast-check";
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";
// protoc-gen-es ships CommonJS without an exports map; its plugin object is what its bin runs.
import { protocGenEs } from "@bufbuild/protoc-gen-es/dist/cjs/src/protoc-gen-es-plugin.js";
import { protocGenDora } from "../src/index.js";
import { compileRequest, repoRoot } from "./helpers.js";

/**
 * The plugin's output for any well-formed proto3 file with unary services
 * type-checks, not only for the protos of this repository: fast-check makes
 * proto files whose service, rpc and message names are drawn from words that
 * are reserved in TypeScript, shadow globals, or clash with what the plugin
 * itself generates and imports, and every result must compile with zero
 * diagnostics under the repository's strict options.
 */

const serviceNames = ["Echo", "Client", "Server", "Promise", "Object", "Delete", "Error", "Kv", "Code", "HandlerContext", "Register"];
const messageNames = [
  "Request",
  "Response",
  "Client",
  "Server",
  "Promise",
  "Object",
  "Delete",
  "New",
  "Constructor",
  "ToString",
  "Error",
  "Code",
  "HandlerContext",
  "CallOptions",
  "MessageInitShape",
  "EchoClient",
  "EchoMethodNames",
  "RegisterEcho",
  "KvService",
  "Array",
  "Symbol",
];
const methodNames = ["Delete", "New", "Constructor", "ToString", "Then", "Get", "Call", "Apply", "Bind", "HasOwnProperty", "ValueOf", "Register", "Await", "Yield", "Default", "Class", "Function", "Proto", "Client"];
const wellKnown = ["google.protobuf.Empty", "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.Struct", "google.protobuf.Any", "google.protobuf.StringValue"];

interface ProtoSpec {
  messages: string[];
  nested: boolean;
  services: Array<{ name: string; methods: Array<{ name: string; input: number; output: number; deprecated: boolean }> }>;
}

const spec: fc.Arbitrary<ProtoSpec> = fc
  .record({
    messages: fc.uniqueArray(fc.constantFrom(...messageNames), { minLength: 1, maxLength: 5 }),
    services: fc.uniqueArray(fc.constantFrom(...serviceNames), { minLength: 1, maxLength: 3 }),
    nested: fc.boolean(),
  })
  .chain(({ messages, services, nested }) => {
    const names = services.filter((s) => !messages.includes(s));
    const types = messages.length + wellKnown.length + (nested ? 1 : 0);
    const method = fc.record({ input: fc.nat(types - 1), output: fc.nat(types - 1), deprecated: fc.boolean() });
    return fc.tuple(
      fc.constant(messages),
      fc.constant(nested),
      fc.tuple(
        ...names.map((name) =>
          fc.uniqueArray(fc.constantFrom(...methodNames), { minLength: 1, maxLength: 4 }).chain((ms) => fc.tuple(...ms.map((m) => method.map((x) => ({ name: m, ...x })))).map((methods) => ({ name, methods }))),
        ),
      ),
    );
  })
  .map(([messages, nested, services]) => ({ messages, nested, services }))
  .filter((s) => s.services.length > 0);

function render(s: ProtoSpec, pkg: string): string {
  // Fully-qualified, as an rpc's own name would otherwise shadow a message of the same name.
  const types = [...s.messages.map((m) => `.${pkg}.${m}`), ...wellKnown.map((w) => `.${w}`), ...(s.nested ? [`.${pkg}.${s.messages[0]}.Inner`] : [])];
  const lines = [
    'syntax = "proto3";',
    `package ${pkg};`,
    ...["any", "duration", "empty", "struct", "timestamp", "wrappers"].map((f) => `import "google/protobuf/${f}.proto";`),
  ];
  s.messages.forEach((m, i) => {
    lines.push(`// ${m} carries a comment with */ inside.`, `message ${m} {`, `  string text = 1;`, `  repeated int64 counts = 2;`);
    if (i === 0 && s.nested) lines.push(`  message Inner { bool flag = 1; }`, `  Inner inner = 3;`);
    lines.push("}");
  });
  for (const svc of s.services) {
    lines.push(`// The ${svc.name} service.`, `service ${svc.name} {`);
    for (const m of svc.methods) {
      lines.push(`  // ${m.name} does a thing.`);
      lines.push(`  rpc ${m.name}(${types[m.input]}) returns (${types[m.output]})${m.deprecated ? " { option deprecated = true; }" : ";"}`);
    }
    lines.push("}");
  }
  return lines.join("\n") + "\n";
}

/** Type-checking is CPU-bound: generous on a busy two-core machine, and it cannot hang. */
const typeCheckTimeoutMs = 180_000;

describe("protoc-gen-dora on generated protos", () => {
  it("emits code that type-checks with zero diagnostics for any unary proto3 service", () => {
    const project = new Project({
      tsConfigFilePath: path.join(repoRoot, "tsconfig.base.json"),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false },
    });
    // Files live (in memory only) under the repository so @dora/runtime and @bufbuild/protobuf resolve.
    const base = path.join(repoRoot, "protoc-gen-dora", "test", "property-gen");
    let run = 0;
    fc.assert(
      fc.property(fc.array(spec, { minLength: 3, maxLength: 3 }), (specs) => {
        run++;
        const files: Record<string, string> = {};
        specs.forEach((s, i) => (files[`prop/r${run}/p${i}/v1/svc.proto`] = render(s, `prop.r${run}.p${i}.v1`)));
        const request = compileRequest(files, "target=ts,import_extension=js");
        const outputs = [protocGenEs.run(request), protocGenDora.run(request)];
        for (const out of outputs) expect(out.error ?? "", Object.values(files).join("\n----\n")).toBe("");
        const added = outputs.flatMap((o) => o.file).map((f) => project.createSourceFile(path.join(base, f.name), f.content, { overwrite: true }));
        expect(added.filter((f) => f.getFilePath().endsWith("_dora.ts"))).toHaveLength(specs.length);
        const diagnostics = added.flatMap((f) => f.getPreEmitDiagnostics());
        expect(project.formatDiagnosticsWithColorAndContext(diagnostics), Object.values(files).join("\n----\n")).toBe("");
        for (const f of added) project.removeSourceFile(f);
      }),
      { numRuns: 8 },
    );
  }, typeCheckTimeoutMs);
});
