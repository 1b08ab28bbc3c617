import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, ImportSymbol, Printable, Schema } from "@bufbuild/protoplugin";
import { checkFile } from "./check-file.js";
import type { DoraPluginOptions } from "./options.js";
import { serviceNames, type ServiceNames } from "./service-names.js";

/** The module every generated file imports its runtime types from. */
const runtimeModule = "@dora/runtime";

/** What one call of the generator writes: TypeScript, JavaScript, or declarations. */
export type GenerateTarget = "ts" | "js" | "dts";

/** The file name extension of each target. */
const extensions: Record<GenerateTarget, string> = { ts: ".ts", js: ".js", dts: ".d.ts" };

/**
 * Generates `<name>_dora.ts` (target `ts`), `<name>_dora.js` (`js`) or
 * `<name>_dora.d.ts` (`dts`) for every requested file that declares at least
 * one service (SPEC §5); a file without services gets no output file.
 *
 * Each target is printed directly, as protoc-gen-es does, rather than
 * transpiled from the TypeScript output: generation then never runs a
 * TypeScript compiler, so it works whatever TypeScript the user's project has
 * (TypeScript 7 has no JavaScript API, SPEC §9). Internal: passed to
 * createEcmaScriptPlugin in index.ts as generateTs, generateJs and generateDts.
 *
 * @throws Error on two generated names that clash; the message is one line
 *   naming the file, the service and the method.
 */
export function generate(schema: Schema<DoraPluginOptions>, target: GenerateTarget): void {
  for (const file of schema.files) {
    if (file.services.length === 0) {
      continue;
    }
    checkFile(file);
    const f = schema.generateFile(`${file.name}_dora${extensions[target]}`);
    f.preamble(file);
    // A service or a message named Promise (or AsyncIterable) would shadow the global one in this file.
    const globals: Globals = {
      promise: target !== "js" && shadows(f, file, "Promise") ? "globalThis.Promise" : "Promise",
      asyncIterable: target !== "js" && shadows(f, file, "AsyncIterable") ? "globalThis.AsyncIterable" : "AsyncIterable",
    };
    file.services.forEach((service, i) => {
      if (i > 0) {
        f.print();
      }
      printService(f, service, target, globals);
    });
  }
}

/** How the generated types name the global `Promise` and `AsyncIterable` in one file. */
interface Globals {
  readonly promise: string;
  readonly asyncIterable: string;
}

/** True when the file declares or imports something named `name` (a service, or a message shape). */
function shadows(f: GeneratedFile, file: DescFile, name: string): boolean {
  return file.services.some(
    (service) =>
      serviceNames(service).handler === name ||
      service.methods.some((m) => f.importShape(m.input).name === name || f.importShape(m.output).name === name),
  );
}

/** The runtime Client method that calls an rpc of this kind. */
const clientMethods: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  server_streaming: "serverStream",
  client_streaming: "clientStream",
  bidi_streaming: "bidiStream",
};

/** The request parameter's name: `requests` when the client streams them. */
function requestParameter(method: DescMethod): string {
  return method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? "requests" : "request";
}

/** `/<package>.<Service>/<Method>`, the name a dora client sends (SPEC §3.3). */
function fullMethodName(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * A method name as an interface member: `new(` would start a construct
 * signature, so that one name is quoted. Every other localName (already
 * escaped by protobuf-es for `constructor`, `toString`, ...) is a valid
 * property name.
 */
function memberName(method: DescMethod): string {
  return method.localName === "new" ? `"new"` : method.localName;
}

function printService(f: GeneratedFile, service: DescService, target: GenerateTarget, globals: Globals): void {
  const names = serviceNames(service);
  const descriptor = f.importSchema(service);
  if (target !== "js") {
    printHandlerInterface(f, service, names, globals);
    f.print();
  }
  printDescriptorExport(f, descriptor, names, target);
  f.print();
  printRegister(f, service, names, descriptor, target);
  f.print();
  if (target !== "js") {
    printClientInterface(f, service, names, globals);
    f.print();
  }
  printCreateClient(f, service, names, descriptor, target);
  f.print();
  printMethodNames(f, service, names, target);
}

/**
 * The handler interface users implement. Streaming rpcs take and return
 * `AsyncIterable`s, as Connect's handlers do: server-streaming
 * `(request, context) => AsyncIterable<response>`, client-streaming
 * `(requests, context) => Promise<response>`, bidirectional
 * `(requests, context) => AsyncIterable<response>`.
 */
function printHandlerInterface(f: GeneratedFile, service: DescService, names: ServiceNames, globals: Globals): void {
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
  const HandlerContext = f.import("HandlerContext", runtimeModule, true);
  f.print(f.jsDoc(service));
  f.print(f.export("interface", names.handler), " {");
  service.methods.forEach((method, i) => {
    if (i > 0) {
      f.print();
    }
    const input = f.importShape(method.input);
    const output: Printable = [MessageInitShape, "<typeof ", f.importSchema(method.output, true), ">"];
    const clientStreams = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const serverStreams = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
    f.print(f.jsDoc(method, "  "));
    f.print("  ", memberName(method), "(", requestParameter(method), ": ", clientStreams ? [globals.asyncIterable, "<", input, ">"] : input,
      ", context: ", HandlerContext, "): ", serverStreams ? globals.asyncIterable : globals.promise, "<", output, ">;");
  });
  f.print("}");
}

/**
 * Re-exports protoc-gen-es's service descriptor under the name of the handler
 * interface, so one import gives both: TypeScript keeps a value and a type of
 * the same name apart (SPEC §5). The export names the imported binding itself,
 * so `export *` of both the `_pb` and the `_dora` module sees one `KvService`
 * value, not two.
 */
function printDescriptorExport(f: GeneratedFile, descriptor: ImportSymbol, names: ServiceNames, target: GenerateTarget): void {
  f.print("// The service descriptor (generated by protoc-gen-es), re-exported under the");
  f.print("// service's name, which in TypeScript also names the handler interface.");
  if (target === "js" && f.jsImportStyle === "legacy_commonjs") {
    f.print("exports.", names.handler, " = ", descriptor, ";");
  } else if (target === "js" && descriptor.name === names.handler) {
    // In JavaScript nothing else in the file takes the service's name (there is
    // no interface, and check-file.ts rejects clashing generated names), so the
    // import keeps it.
    f.print("export { ", descriptor, " };");
  } else {
    f.print("export { ", descriptor, " as ", names.handler, " };");
  }
}

function printRegister(f: GeneratedFile, service: DescService, names: ServiceNames, descriptor: ImportSymbol, target: GenerateTarget): void {
  f.print(f.jsDoc(
    `Registers an implementation of the service ${service.typeName} on a dora server.\n` +
    `A method the implementation lacks at run time answers Unimplemented.`));
  if (target === "js") {
    f.print(f.export("function", names.register), "(server, implementation) {");
  } else {
    const Server = f.import("Server", runtimeModule, true);
    const signature: Printable = [f.export(target === "dts" ? "declare function" : "function", names.register),
      "(server: ", Server, ", implementation: ", names.handler, "): void"];
    if (target === "dts") {
      f.print(signature, ";");
      return;
    }
    f.print(signature, " {");
  }
  f.print("  server.register(", descriptor, ", implementation);");
  f.print("}");
}

/**
 * The typed client interface: a unary method resolves to the response; a
 * streaming one takes its requests and gives its responses as
 * `AsyncIterable`s (a client-streaming method resolves to its one response).
 */
function printClientInterface(f: GeneratedFile, service: DescService, names: ServiceNames, globals: Globals): void {
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
  const CallOptions = f.import("CallOptions", runtimeModule, true);
  const streams = service.methods.some((m) => m.methodKind !== "unary");
  f.print(f.jsDoc(
    streams
      ? `A typed client of the service ${service.typeName}: a unary method makes one\n` +
        `call and resolves to the response; a streaming method takes its requests\n` +
        `and gives its responses as AsyncIterables. Failures are DoraErrors.\n\n` +
        `@generated from service ${service.typeName}`
      : `A typed client of the service ${service.typeName}: each method makes one unary\n` +
        `call and resolves to the response, or rejects with a DoraError.\n\n` +
        `@generated from service ${service.typeName}`));
  f.print(f.export("interface", names.client), " {");
  service.methods.forEach((method, i) => {
    if (i > 0) {
      f.print();
    }
    const input: Printable = [MessageInitShape, "<typeof ", f.importSchema(method.input, true), ">"];
    const output = f.importShape(method.output);
    const clientStreams = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const serverStreams = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
    f.print(f.jsDoc(method, "  "));
    f.print("  ", memberName(method), "(", requestParameter(method), ": ", clientStreams ? [globals.asyncIterable, "<", input, ">"] : input,
      ", options?: ", CallOptions, "): ", serverStreams ? globals.asyncIterable : globals.promise, "<", output, ">;");
  });
  f.print("}");
}

function printCreateClient(f: GeneratedFile, service: DescService, names: ServiceNames, descriptor: ImportSymbol, target: GenerateTarget): void {
  f.print(f.jsDoc(
    `Creates a ${names.client} that calls ${service.typeName} through a dora\n` +
    `Client (its pool, timeouts, metadata and interceptors apply to every call).`));
  if (target === "js") {
    f.print(f.export("function", names.createClient), "(client) {");
  } else {
    const Client = f.import("Client", runtimeModule, true);
    const signature: Printable = [f.export(target === "dts" ? "declare function" : "function", names.createClient),
      "(client: ", Client, "): ", names.client];
    if (target === "dts") {
      f.print(signature, ";");
      return;
    }
    f.print(signature, " {");
  }
  f.print("  return {");
  for (const method of service.methods) {
    const request = requestParameter(method);
    f.print("    ", method.localName, ": (", request, ", options) => client.", clientMethods[method.methodKind], "(", descriptor, ".method.",
      method.localName, ", ", request, ", options),");
  }
  f.print("  };");
  f.print("}");
}

function printMethodNames(f: GeneratedFile, service: DescService, names: ServiceNames, target: GenerateTarget): void {
  f.print(f.jsDoc(
    `The fully-qualified method names of ${service.typeName} by local method name,\n` +
    `as HandlerContext.method and interceptors see them.`));
  if (target === "dts") {
    f.print(f.export("declare const", names.methodNames), ": {");
    for (const method of service.methods) {
      f.print("  readonly ", method.localName, ": ", f.string(fullMethodName(method)), ";");
    }
    f.print("};");
    return;
  }
  f.print(f.export("const", names.methodNames), " = {");
  for (const method of service.methods) {
    f.print("  ", method.localName, ": ", f.string(fullMethodName(method)), ",");
  }
  f.print(target === "ts" ? "} as const;" : "};");
}
