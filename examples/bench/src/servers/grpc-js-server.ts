import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Code, ReadSecureMessageResponseSchema, type ReadSecureMessageRequest, type ReadSecureMessageResponse } from "@dora/tiger/kv/v1";
import { kvServiceDefinition } from "../grpc-js-service.js";
import { BenchKvStore } from "../kv-store.js";
import type { WorkloadParams } from "../workload.js";
import type { RunningServer } from "./running-server.js";

function first(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/**
 * A `@grpc/grpc-js` server with its default options (no logging, no
 * compression) serving ReadSecureMessage: the token check and value lookup
 * every server of the comparison does, `UNAUTHENTICATED` on a bad token.
 */
export async function startGrpcJsServer(params: WorkloadParams): Promise<RunningServer> {
  const store = new BenchKvStore(params);
  const server = new grpc.Server();
  server.addService(kvServiceDefinition, {
    readSecureMessage(
      call: grpc.ServerUnaryCall<ReadSecureMessageRequest, ReadSecureMessageResponse>,
      callback: grpc.sendUnaryData<ReadSecureMessageResponse>,
    ): void {
      const username = first(call.metadata, "username");
      if (!store.authenticate(username, first(call.metadata, "token"))) {
        callback({ code: grpc.status.UNAUTHENTICATED, details: "invalid session" });
        return;
      }
      const value = store.read(username!, call.request.key);
      callback(
        null,
        create(
          ReadSecureMessageResponseSchema,
          value === undefined ? { status: { code: Code.KEY_NOT_EXIST, message: "key does not exist" } } : { status: { code: Code.OK, message: "ok" }, value },
        ),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
