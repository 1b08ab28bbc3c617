import { createClient } from "@dora/runtime";
import { Code, createKvServiceClient } from "@dora/tiger/kv/v1";
import type { BenchClient, BenchClientOptions } from "./bench-client.js";

/**
 * The dora runtime alone: a `@dora/runtime` client with its default options
 * (its pool of connections unless `connections` is given) and tiger's
 * generated client, `username` and `token` as metadata on every call.
 */
export function createRuntimeKvClient(options: BenchClientOptions): Promise<BenchClient> {
  const { params } = options;
  const client = createClient({ address: options.address, poolSize: options.connections, meta: { username: params.username, token: params.token } });
  const kv = createKvServiceClient(client);
  const request = { key: params.letter.repeat(params.sizeBytes) };
  return Promise.resolve({
    call(): Promise<boolean> {
      return kv.readSecureMessage(request).then(
        (response) => (response.status?.code ?? Code.OK) === Code.OK && response.value.length === params.sizeBytes,
        () => false,
      );
    },
    close: () => client.close(),
  });
}
