import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { WatchSecureMessageRequestSchema, type WatchSecureMessageRequest, type WatchSecureMessageResponse } from "@dora/tiger/kv/v1";
import { kvServiceDefinition } from "../grpc-js-service.js";
import { STREAM_MESSAGES_META } from "../workload.js";
import type { BenchClientOptions, BenchStreamClient } from "./bench-client.js";

interface KvGrpcStreamClient extends grpc.Client {
  watchSecureMessage(request: WatchSecureMessageRequest, metadata: grpc.Metadata): grpc.ClientReadableStream<WatchSecureMessageResponse>;
}

const KvGrpcClientConstructor = grpc.makeGenericClientConstructor(kvServiceDefinition, "kv.v1.KvService");

/**
 * The streaming comparison's `@grpc/grpc-js` client: default options, one
 * channel per `connections`, streams spread over them round-robin; metadata
 * `username`, `token` and `messages` on every stream.
 */
export async function createGrpcJsStreamClient(options: BenchClientOptions): Promise<BenchStreamClient> {
  const { params } = options;
  const channelOptions: grpc.ChannelOptions = options.connections > 1 ? { "grpc.use_local_subchannel_pool": 1 } : {};
  const clients = Array.from(
    { length: options.connections },
    () => new KvGrpcClientConstructor(options.address, grpc.credentials.createInsecure(), channelOptions) as unknown as KvGrpcStreamClient,
  );
  await Promise.all(
    clients.map(
      (client) => new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (error) => (error === undefined || error === null ? resolve() : reject(error)))),
    ),
  );
  const request = create(WatchSecureMessageRequestSchema, { key: params.letter.repeat(params.sizeBytes) });
  const metadataFor = new Map<number, grpc.Metadata>();
  const metadata = (messages: number): grpc.Metadata => {
    let found = metadataFor.get(messages);
    if (found === undefined) {
      found = new grpc.Metadata();
      found.set("username", params.username);
      found.set("token", params.token);
      found.set(STREAM_MESSAGES_META, String(messages));
      metadataFor.set(messages, found);
    }
    return found;
  };
  return {
    stream(caller, messages, onMessage): Promise<number> {
      const client = clients[caller % clients.length]!;
      return new Promise<number>((resolve) => {
        let good = 0;
        const call = client.watchSecureMessage(request, metadata(messages));
        call.on("data", (message: WatchSecureMessageResponse) => {
          onMessage();
          if (message.key.length === params.sizeBytes && message.value.length === params.sizeBytes) good++;
        });
        // `status` comes last, after every message, whether the stream ended well or not.
        call.on("status", () => resolve(good));
        call.on("error", () => undefined);
      });
    },
    close(): Promise<void> {
      for (const client of clients) client.close();
      return Promise.resolve();
    },
  };
}
