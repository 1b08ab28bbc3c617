import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ReadSecureMessageResponseSchema,
  WatchSecureMessageResponseSchema,
  type ReadSecureMessageRequest,
  type ReadSecureMessageResponse,
  type WatchSecureMessageRequest,
  type WatchSecureMessageResponse,
} from "@dora/tiger/kv/v1";
import { kvServiceDefinition } from "../grpc-js-service.js";
import { BenchKvStore } from "../kv-store.js";
import { STREAM_MESSAGES_META, streamLengthOf, type WorkloadParams } from "../workload.js";
import type { RunningServer } from "./running-server.js";

function first(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/** Ends a server stream with `code` (grpc-js's way: an `error` event carrying the status). */
function fail(call: grpc.ServerWritableStream<unknown, unknown>, code: grpc.status, details: string): void {
  call.emit("error", { code, details });
}

/**
 * A `@grpc/grpc-js` server with its default options (no logging, no
 * compression) serving ReadSecureMessage: the token check and value lookup
 * every server of the comparison does, `UNAUTHENTICATED` on a bad token;
 * and the server-streaming WatchSecureMessage of the streaming comparison:
 * the same checks once, then the key and its value as many times as the
 * metadata `messages` asks, written as fast as grpc-js's flow control lets
 * them go (`write` returning false waits for `drain`).
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
    watchSecureMessage(call: grpc.ServerWritableStream<WatchSecureMessageRequest, WatchSecureMessageResponse>): void {
      const username = first(call.metadata, "username");
      if (!store.authenticate(username, first(call.metadata, "token"))) {
        fail(call, grpc.status.UNAUTHENTICATED, "invalid session");
        return;
      }
      const count = streamLengthOf(first(call.metadata, STREAM_MESSAGES_META));
      if (count === undefined) {
        fail(call, grpc.status.INVALID_ARGUMENT, `metadata ${STREAM_MESSAGES_META} must be a positive integer`);
        return;
      }
      const value = store.read(username!, call.request.key);
      if (value === undefined) {
        fail(call, grpc.status.NOT_FOUND, "key does not exist");
        return;
      }
      const message = create(WatchSecureMessageResponseSchema, { key: call.request.key, value });
      let sent = 0;
      let cancelled = false;
      call.on("cancelled", () => (cancelled = true));
      const pump = (): void => {
        while (sent < count && !cancelled) {
          sent++;
          if (!call.write(message)) {
            call.once("drain", pump);
            return;
          }
        }
        if (!cancelled) call.end();
      };
      pump();
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
