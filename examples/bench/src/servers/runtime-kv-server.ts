import { create } from "@bufbuild/protobuf";
import { createServer, DoraError, Code as DoraCode } from "@dora/runtime";
import { Code, registerKvService, WatchSecureMessageResponseSchema } from "@dora/tiger/kv/v1";
import { BenchKvStore } from "../kv-store.js";
import { STREAM_MESSAGES_META, streamLengthOf, type WorkloadParams } from "../workload.js";
import type { RunningServer } from "./running-server.js";

/**
 * The dora runtime alone on the comparison's workload: a `@dora/runtime`
 * server with its default options and tiger's generated `registerKvService`,
 * whose ReadSecureMessage does the token check and value lookup every other
 * competitor's server does (no sessions store, quotas or interceptors, unlike
 * etserver). Separates the runtime's cost from etserver's. Its
 * server-streaming WatchSecureMessage is the streaming comparison's: the same
 * checks once, then the key and its value as many times as the metadata
 * `messages` asks, each sent as the client's flow-control credit allows.
 */
export async function startRuntimeKvServer(params: WorkloadParams): Promise<RunningServer> {
  const store = new BenchKvStore(params);
  const server = createServer();
  const unsupported = () => Promise.reject(new DoraError(DoraCode.Unimplemented, "not part of the benchmark"));
  registerKvService(server, {
    login: unsupported,
    writeSecureMessage: unsupported,
    readSecureMessage(request, context) {
      const username = context.requestMeta["username"];
      if (!store.authenticate(username, context.requestMeta["token"])) {
        return Promise.reject(new DoraError(DoraCode.Unauthenticated, "invalid session"));
      }
      const value = store.read(username!, request.key);
      return Promise.resolve(
        value === undefined ? { status: { code: Code.KEY_NOT_EXIST, message: "key does not exist" } } : { status: { code: Code.OK, message: "ok" }, value },
      );
    },
    async *watchSecureMessage(request, context) {
      const username = context.requestMeta["username"];
      if (!store.authenticate(username, context.requestMeta["token"])) throw new DoraError(DoraCode.Unauthenticated, "invalid session");
      const count = streamLengthOf(context.requestMeta[STREAM_MESSAGES_META]);
      if (count === undefined) throw new DoraError(DoraCode.BadRequest, `metadata ${STREAM_MESSAGES_META} must be a positive integer`);
      const value = store.read(username!, request.key);
      if (value === undefined) throw new DoraError(DoraCode.NotFound, "key does not exist");
      const message = create(WatchSecureMessageResponseSchema, { key: request.key, value });
      for (let sent = 0; sent < count; sent++) yield message;
    },
  });
  const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
  return { port, close: () => server.close() };
}
