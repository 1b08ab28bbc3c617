import * as http2 from "node:http2";
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Code, KvService } from "@dora/tiger/kv/v1";
import { BenchKvStore } from "../kv-store.js";
import type { WorkloadParams } from "../workload.js";
import { listenOnLoopback, type RunningServer } from "./running-server.js";

/**
 * A `@connectrpc/connect-node` server over plaintext HTTP/2 (h2c) serving
 * `KvService` from tiger's protobuf-es descriptor, with the adapter's
 * defaults: it accepts the Connect, gRPC and gRPC-web protocols on one port.
 * The handler does the token check and value lookup every server of the
 * comparison does and throws `Unauthenticated` on a bad token.
 */
export async function startConnectServer(params: WorkloadParams): Promise<RunningServer> {
  const store = new BenchKvStore(params);
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(KvService, {
        readSecureMessage(request, context) {
          const username = context.requestHeader.get("username") ?? undefined;
          if (!store.authenticate(username, context.requestHeader.get("token") ?? undefined)) {
            throw new ConnectError("invalid session", ConnectCode.Unauthenticated);
          }
          const value = store.read(username!, request.key);
          return value === undefined ? { status: { code: Code.KEY_NOT_EXIST, message: "key does not exist" } } : { status: { code: Code.OK, message: "ok" }, value };
        },
      });
    },
  });
  return listenOnLoopback(http2.createServer(handler));
}
