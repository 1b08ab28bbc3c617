import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Code, KvService } from "@dora/tiger/kv/v1";
import type { BenchClient, BenchClientOptions } from "./bench-client.js";

/** The wire protocols `@connectrpc/connect-node` speaks. */
export type ConnectProtocol = "grpc" | "connect" | "grpc-web";

/**
 * `@connectrpc/connect-node` clients over plaintext HTTP/2, one transport
 * (so one HTTP/2 session) per `connections`, with the transport's defaults
 * except the binary protobuf format for the Connect protocol (its default is
 * JSON; binary is the same bytes every other system sends, and Connect's
 * advice for speed). Headers `username` and `token` on every call.
 */
export function createConnectBenchClient(protocol: ConnectProtocol): (options: BenchClientOptions) => Promise<BenchClient> {
  return (options) => {
    const { params } = options;
    const baseUrl = `http://${options.address}`;
    const makeTransport = (): Transport => {
      switch (protocol) {
        case "grpc":
          return createGrpcTransport({ baseUrl });
        case "grpc-web":
          return createGrpcWebTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
        case "connect":
          return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
      }
    };
    const clients: Client<typeof KvService>[] = Array.from({ length: options.connections }, () => createClient(KvService, makeTransport()));
    const headers = { username: params.username, token: params.token };
    const request = { key: params.letter.repeat(params.sizeBytes) };
    return Promise.resolve({
      call(caller: number): Promise<boolean> {
        return clients[caller % clients.length]!.readSecureMessage(request, { headers }).then(
          (response) => (response.status?.code ?? Code.OK) === Code.OK && response.value.length === params.sizeBytes,
          () => false,
        );
      },
      close(): Promise<void> {
        return Promise.resolve();
      },
    });
  };
}
