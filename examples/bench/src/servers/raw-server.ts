import { createServer } from "node:net";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ReadSecureMessageRequestSchema, ReadSecureMessageResponseSchema } from "@dora/tiger/kv/v1";
import { encodeFrame, FRAME_DATA, FrameReader } from "../frames.js";
import { BenchKvStore } from "../kv-store.js";
import { PkgSchema } from "../pkg-schema.js";
import { READ_METHOD_PATH, type WorkloadParams } from "../workload.js";
import { listenOnLoopback, type RunningServer } from "./running-server.js";

/** dora status Unauthenticated (SPEC §3.4). */
const UNAUTHENTICATED = "6";
/** dora status Unimplemented (SPEC §3.4). */
const UNIMPLEMENTED = "1";

/**
 * The raw-socket bound's server: a plain `net` server reading nap frames
 * whose payload is a protobuf-es-encoded `Pkg`, doing the same per-call work
 * as the other servers (token check, value lookup) and answering all the
 * frames of one `data` chunk with one write. No keepalive, limits, deadlines
 * or interceptors: the least a Node.js process must do to serve the call.
 */
export async function startRawServer(params: WorkloadParams): Promise<RunningServer> {
  const store = new BenchKvStore(params);
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    const reader = new FrameReader();
    let out: Buffer[] = [];
    const onFrame = (streamId: number, type: number, payload: Buffer): void => {
      if (type !== FRAME_DATA) return;
      const request = fromBinary(PkgSchema, payload);
      const head = request.head;
      if (head === undefined) return;
      const meta: Record<string, string> = {};
      let body: Uint8Array = new Uint8Array(0);
      if (head.method !== READ_METHOD_PATH) {
        meta["dora-status"] = UNIMPLEMENTED;
      } else if (!store.authenticate(head.meta["username"], head.meta["token"])) {
        meta["dora-status"] = UNAUTHENTICATED;
      } else {
        const read = fromBinary(ReadSecureMessageRequestSchema, request.payload);
        const value = store.read(head.meta["username"]!, read.key);
        body = toBinary(
          ReadSecureMessageResponseSchema,
          value === undefined
            ? { $typeName: "kv.v1.ReadSecureMessageResponse", status: { $typeName: "kv.v1.Status", code: Code.KEY_NOT_EXIST, message: "key does not exist" }, value: "" }
            : { $typeName: "kv.v1.ReadSecureMessageResponse", status: { $typeName: "kv.v1.Status", code: Code.OK, message: "ok" }, value },
        );
      }
      const response = toBinary(PkgSchema, {
        $typeName: "dora.bench.v1.Pkg",
        head: { $typeName: "dora.bench.v1.Head", version: head.version, serializeType: head.serializeType, seq: head.seq, method: head.method, meta },
        payload: body,
      });
      out.push(encodeFrame(streamId, response));
    };
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk, onFrame);
      } catch {
        socket.destroy();
        return;
      }
      if (out.length === 0) return;
      socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      out = [];
    });
  });
  return listenOnLoopback(server);
}
