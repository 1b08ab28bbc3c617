import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import { safeIdentifier, type GeneratedFile, type Schema } from "@bufbuild/protoplugin";
import type { DoraPluginOptions } from "./options.js";

/** The module every generated file imports its runtime types from. */
const runtimeModule = "@dora/runtime";

/**
 * Generates `<name>_dora.ts` for every requested file that declares at least
 * one service (SPEC §5); a file without services gets no output file.
 * Internal: called by protoplugin through the plugin in index.ts.
 *
 * @throws Error on a streaming rpc or on two generated names that clash; the
 *   message is one line naming the file, the service and the method.
 */
export function generateTs(schema: Schema<DoraPluginOptions>): void {
  for (const file of schema.files) {
    if (file.services.length === 0) {
      continue;
    }
    checkFile(file);
    const f = schema.generateFile(`${file.name}_dora.ts`);
    f.preamble(file);
    // A service or a message named Promise would shadow the global one in this file.
    const promise = shadowsPromise(f, file) ? "globalThis.Promise" : "Promise";
    file.services.forEach((service, i) => {
      if (i > 0) {
        f.print();
      }
      printService(f, service, promise);
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

/** The names generated for one service. */
interface ServiceNames {
  readonly handler: string;
  readonly register: string;
  readonly client: string;
  readonly createClient: string;
  readonly methodNames: string;
}

function serviceNames(service: DescService): ServiceNames {
  return {
    handler: safeIdentifier(service.name),
    register: `register${service.name}`,
    client: `${service.name}Client`,
    createClient: `create${service.name}Client`,
    methodNames: `${service.name}MethodNames`,
  };
}

/**
 * Parameter names of the generated functions. A service descriptor imported
 * under one of these names would be shadowed by the parameter.
 */
const parameterNames = new Set(["server", "implementation", "client", "request", "options", "context"]);

/**
 * Rejects what dora cannot serve yet (streaming, SPEC §4 "not yet supported")
 * and generated names that would clash within one file, before any output.
 */
function checkFile(file: DescFile): void {
  const taken = new Map<string, string>();
  for (const service of file.services) {
    if (parameterNames.has(service.name)) {
      throw new Error(
        `${file.proto.name}: service ${service.typeName}: the service name ${service.name} clashes with a parameter name of the generated code; name the service in PascalCase`,
      );
    }
    for (const method of service.methods) {
      if (method.methodKind !== "unary") {
        throw new Error(
          `${file.proto.name}: service ${service.typeName}: rpc ${method.name} is ${method.methodKind.replace("_", "-")}; dora supports unary rpcs only (streaming is not supported yet)`,
        );
      }
    }
    for (const name of Object.values(serviceNames(service))) {
      const other = taken.get(name);
      if (other !== undefined) {
        throw new Error(
          `${file.proto.name}: service ${service.typeName}: generated name ${name} clashes with a name generated for service ${other}`,
        );
      }
      taken.set(name, service.typeName);
    }
  }
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

function printService(f: GeneratedFile, service: DescService, promise: string): void {
  const names = serviceNames(service);
  const descriptor = f.importSchema(service);
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
  const HandlerContext = f.import("HandlerContext", runtimeModule, true);
  const Server = f.import("Server", runtimeModule, true);
  const Client = f.import("Client", runtimeModule, true);
  const CallOptions = f.import("CallOptions", runtimeModule, true);

  // The handler interface users implement.
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
  f.print();

  f.print(f.jsDoc(
    `Registers an implementation of the service ${service.typeName} on a dora server.\n` +
    `A method the implementation lacks at run time answers Unimplemented.`));
  f.print(f.export("function", names.register), "(server: ", Server, ", implementation: ", names.handler, "): void {");
  f.print("  server.register(", descriptor, ", implementation);");
  f.print("}");
  f.print();

  // The typed client.
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
  f.print();

  f.print(f.jsDoc(
    `Creates a ${names.client} that calls ${service.typeName} through a dora\n` +
    `Client (its pool, timeouts, metadata and interceptors apply to every call).`));
  f.print(f.export("function", names.createClient), "(client: ", Client, "): ", names.client, " {");
  f.print("  return {");
  for (const method of service.methods) {
    f.print("    ", method.localName, ": (request, options) => client.unary(", descriptor, ".method.", method.localName,
      ", request, options),");
  }
  f.print("  };");
  f.print("}");
  f.print();

  f.print(f.jsDoc(
    `The fully-qualified method names of ${service.typeName} by local method name,\n` +
    `as HandlerContext.method and interceptors see them.`));
  f.print(f.export("const", names.methodNames), " = {");
  for (const method of service.methods) {
    f.print("  ", method.localName, ": ", f.string(fullMethodName(method)), ",");
  }
  f.print("} as const;");
}
