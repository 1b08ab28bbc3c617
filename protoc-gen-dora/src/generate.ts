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
 * @throws Error on a streaming rpc or on two generated names that clash; the
 *   message is one line naming the file, the service and the method.
 */
export function generate(schema: Schema<DoraPluginOptions>, target: GenerateTarget): void {
  for (const file of schema.files) {
    if (file.services.length === 0) {
      continue;
    }
    checkFile(file);
    const f = schema.generateFile(`${file.name}_dora${extensions[target]}`);
    f.preamble(file);
    // A service or a message named Promise would shadow the global one in this file.
    const promise = target !== "js" && shadowsPromise(f, file) ? "globalThis.Promise" : "Promise";
    file.services.forEach((service, i) => {
      if (i > 0) {
        f.print();
      }
      printService(f, service, target, promise);
    });
  }
}

/** True when the file declares or imports something named `Promise` (a service, or a message shape). */
function shadowsPromise(f: GeneratedFile, file: DescFile): boolean {
  return file.services.some(
    (service) =>
      serviceNames(service).handler === "Promise" ||
      service.methods.some((m) => f.importShape(m.input).name === "Promise" || f.importShape(m.output).name === "Promise"),
  );
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

function printService(f: GeneratedFile, service: DescService, target: GenerateTarget, promise: string): void {
  const names = serviceNames(service);
  const descriptor = f.importSchema(service);
  if (target !== "js") {
    printHandlerInterface(f, service, names, promise);
    f.print();
  }
  printDescriptorExport(f, descriptor, names, target);
  f.print();
  printRegister(f, service, names, descriptor, target);
  f.print();
  if (target !== "js") {
    printClientInterface(f, service, names, promise);
    f.print();
  }
  printCreateClient(f, service, names, descriptor, target);
  f.print();
  printMethodNames(f, service, names, target);
}

/** The handler interface users implement. */
function printHandlerInterface(f: GeneratedFile, service: DescService, names: ServiceNames, promise: string): void {
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
  const HandlerContext = f.import("HandlerContext", runtimeModule, true);
  f.print(f.jsDoc(service));
  f.print(f.export("interface", names.handler), " {");
  service.methods.forEach((method, i) => {
    if (i > 0) {
      f.print();
    }
    f.print(f.jsDoc(method, "  "));
    f.print("  ", memberName(method), "(request: ", f.importShape(method.input), ", context: ", HandlerContext, "): ", promise, "<",
      MessageInitShape, "<typeof ", f.importSchema(method.output, true), ">>;");
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

/** The typed client interface. */
function printClientInterface(f: GeneratedFile, service: DescService, names: ServiceNames, promise: string): void {
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
  const CallOptions = f.import("CallOptions", runtimeModule, true);
  f.print(f.jsDoc(
    `A typed client of the service ${service.typeName}: each method makes one unary\n` +
    `call and resolves to the response, or rejects with a DoraError.\n\n` +
    `@generated from service ${service.typeName}`));
  f.print(f.export("interface", names.client), " {");
  service.methods.forEach((method, i) => {
    if (i > 0) {
      f.print();
    }
    f.print(f.jsDoc(method, "  "));
    f.print("  ", memberName(method), "(request: ", MessageInitShape, "<typeof ", f.importSchema(method.input, true),
      ">, options?: ", CallOptions, "): ", promise, "<", f.importShape(method.output), ">;");
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
    f.print("    ", method.localName, ": (request, options) => client.unary(", descriptor, ".method.", method.localName,
      ", request, options),");
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
