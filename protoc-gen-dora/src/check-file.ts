import type { DescFile } from "@bufbuild/protobuf";
import { serviceNames } from "./service-names.js";

/**
 * Parameter names of the generated functions. A service descriptor imported
 * under one of these names would be shadowed by the parameter.
 */
const parameterNames = new Set(["server", "implementation", "client", "request", "requests", "options", "context"]);

/**
 * Rejects generated names that would clash within one file, before any
 * output. Every kind of rpc is generated (unary and streaming).
 * Internal: called by generate.ts for every file with services.
 *
 * @throws Error on a service named like a parameter of the generated code,
 *   or on two generated names that clash; the message is one line naming the
 *   file and the service.
 */
export function checkFile(file: DescFile): void {
  const taken = new Map<string, string>();
  for (const service of file.services) {
    if (parameterNames.has(service.name)) {
      throw new Error(
        `${file.proto.name}: service ${service.typeName}: the service name ${service.name} clashes with a parameter name of the generated code; name the service in PascalCase`,
      );
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
