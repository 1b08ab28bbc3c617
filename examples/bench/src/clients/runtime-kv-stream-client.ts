import { createClient } from "@dora/runtime";
import { createKvServiceClient } from "@dora/tiger/kv/v1";
import { STREAM_MESSAGES_META } from "../workload.js";
import type { BenchClientOptions, BenchStreamClient } from "./bench-client.js";

/**
 * The streaming comparison's dora client: a `@dora/runtime` client with its
 * default options but `connections` connections in its pool, and tiger's
 * generated client; metadata `username`, `token` and `messages` on every
 * stream.
 */
export function createRuntimeKvStreamClient(options: BenchClientOptions): Promise<BenchStreamClient> {
  const { params } = options;
  const client = createClient({ address: options.address, poolSize: options.connections });
  const kv = createKvServiceClient(client);
  const request = { key: params.letter.repeat(params.sizeBytes) };
  const metaFor = new Map<number, Record<string, string>>();
  const meta = (messages: number): Record<string, string> => {
    let found = metaFor.get(messages);
    if (found === undefined) metaFor.set(messages, (found = { username: params.username, token: params.token, [STREAM_MESSAGES_META]: String(messages) }));
    return found;
  };
  return Promise.resolve({
    async stream(_caller, messages, onMessage): Promise<number> {
      let good = 0;
      try {
        for await (const message of kv.watchSecureMessage(request, { meta: meta(messages) })) {
          onMessage();
          if (message.key.length === params.sizeBytes && message.value.length === params.sizeBytes) good++;
        }
      } catch {
        // A failed stream counts the messages it had; the rest are failures.
      }
      return good;
    },
    close: () => client.close(),
  });
}
