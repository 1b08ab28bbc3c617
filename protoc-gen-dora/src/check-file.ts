import type { DescFile } from "@bufbuild/protobuf";
import { serviceNames } from "./service-names.js";

/**
 * Parameter names of the generated functions. A service descriptor imported
 * under one of these names would be shadowed by the parameter.
 */
const parameterNames = new Set(["server", "implementation", "client", "request", "options", "context"]);

/**
 * Rejects what dora cannot serve yet (streaming, SPEC §4 "not yet supported")
 * and generated names that would clash within one file, before any output.
 * Internal: called by generate.ts for every file with services.
 *
 * @throws Error on a streaming rpc, on a service named like a parameter of the
 *   generated code, or on two generated names that clash; the message is one
 *   line naming the file, the service and the method.
 */
export function checkFile(file: DescFile): void {
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
