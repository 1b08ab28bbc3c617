import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Code, ReadSecureMessageRequestSchema, type ReadSecureMessageRequest, type ReadSecureMessageResponse } from "@dora/tiger/kv/v1";
import { kvServiceDefinition } from "../grpc-js-service.js";
import type { BenchClient, BenchClientOptions } from "./bench-client.js";

type ReadCallback = (error: grpc.ServiceError | null, response?: ReadSecureMessageResponse) => void;
interface KvGrpcClient extends grpc.Client {
  readSecureMessage(request: ReadSecureMessageRequest, metadata: grpc.Metadata, callback: ReadCallback): grpc.ClientUnaryCall;
}

const KvGrpcClientConstructor = grpc.makeGenericClientConstructor(kvServiceDefinition, "kv.v1.KvService");

/**
 * `@grpc/grpc-js` clients with default options, one per `connections`: one
 * channel, or several that each keep their own connection
 * (`grpc.use_local_subchannel_pool`, grpc-js's way to stop channels to the
 * same address sharing one subchannel). Metadata `username` and `token`
 * on every call.
 */
export async function createGrpcJsClient(options: BenchClientOptions): Promise<BenchClient> {
  const { params } = options;
  const channelOptions: grpc.ChannelOptions = options.connections > 1 ? { "grpc.use_local_subchannel_pool": 1 } : {};
  const clients = Array.from(
    { length: options.connections },
    () => new KvGrpcClientConstructor(options.address, grpc.credentials.createInsecure(), channelOptions) as unknown as KvGrpcClient,
  );
  await Promise.all(
    clients.map(
      (client) => new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (error) => (error === undefined || error === null ? resolve() : reject(error)))),
    ),
  );
  const metadata = new grpc.Metadata();
  metadata.set("username", params.username);
  metadata.set("token", params.token);
  const request = create(ReadSecureMessageRequestSchema, { key: params.letter.repeat(params.sizeBytes) });
  return {
    call(caller: number): Promise<boolean> {
      const client = clients[caller % clients.length]!;
      return new Promise<boolean>((resolve) => {
        client.readSecureMessage(request, metadata, (error, response) => {
          resolve(error === null && response !== undefined && (response.status?.code ?? Code.OK) === Code.OK && response.value.length === params.sizeBytes);
        });
      });
    },
    close(): Promise<void> {
      for (const client of clients) client.close();
      return Promise.resolve();
    },
  };
}
