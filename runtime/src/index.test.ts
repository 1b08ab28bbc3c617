import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as api from "./index.js";
import { runtimeSrc } from "./test-helpers/load-proto.js";

describe("the public surface (index.ts)", () => {
  it("exports interfaces' factories, codes, errors, codecs, loggers and the dora v2 settings, nothing else", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "Code",
        "DEFAULTS",
        "MAX_TIMEOUT_MS",
        "DORA_V2_MAX_FRAME_BYTES",
        "DoraError",
        "codeFromName",
        "codeName",
        "createClient",
        "createConsoleLogger",
        "createContextKey",
        "createContextValues",
        "createHandlerContext",
        "createInProcessClient",
        "createServer",
        "doraV2CompatClientOptions",
        "doraV2CompatServerOptions",
        "isDoraError",
        "jsonCodec",
        "parseLogLevel",
        "protoCodec",
        "silentLogger",
      ].sort(),
    );
  });

  it("reaches no internal member through the types of Server and Client", { timeout: 120_000 }, () => {
    const dist = path.resolve(runtimeSrc, "../dist/index.js");
    const file = path.join(runtimeSrc, "__surface_check__.ts");
    const source = `
      import { createClient, createServer } from ${JSON.stringify(dist)};
      const server = createServer();
      server.closing; server.wheel; server.router; server.interceptors; server.acceptChannel;
      const client = createClient({ address: "127.0.0.1:1" });
      client.codecFor; client.wheel; client.config; client.send;
    `;
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ["lib.es2023.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ["node"],
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (name === file ? source : readFile(name));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    const messages = program.getSemanticDiagnostics(program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    const missing = (name: string, type: string) => `Property '${name}' does not exist on type '${type}'.`;
    for (const name of ["closing", "wheel", "router", "interceptors", "acceptChannel"]) expect(messages).toContain(missing(name, "Server"));
    for (const name of ["codecFor", "wheel", "config", "send"]) expect(messages).toContain(missing(name, "Client"));
    expect(messages).toHaveLength(9);
  });
});
