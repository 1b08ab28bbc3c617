import type { DescService } from "@bufbuild/protobuf";
import { safeIdentifier } from "@bufbuild/protoplugin";

/**
 * The names protoc-gen-dora generates for one service (SPEC §5). Internal:
 * used by generate.ts and check-file.ts.
 */
export interface ServiceNames {
  /** The handler interface, and the service descriptor re-exported under the same name: `KvService`. */
  readonly handler: string;
  /** The register function: `registerKvService`. */
  readonly register: string;
  /** The client interface: `KvServiceClient`. */
  readonly client: string;
  /** The client factory: `createKvServiceClient`. */
  readonly createClient: string;
  /** The constant with the fully-qualified method names: `KvServiceMethodNames`. */
  readonly methodNames: string;
}

/** Returns the names generated for `service`. Internal. */
export function serviceNames(service: DescService): ServiceNames {
  return {
    handler: safeIdentifier(service.name),
    register: `register${service.name}`,
    client: `${service.name}Client`,
    createClient: `create${service.name}Client`,
    methodNames: `${service.name}MethodNames`,
  };
}
