import { connect, type Socket } from "node:net";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { parseHostPort } from "@dora/runtime/config";
import { Code, ReadSecureMessageRequestSchema, ReadSecureMessageResponseSchema } from "@dora/tiger/kv/v1";
import { encodeFrame, FRAME_DATA, FrameReader } from "../frames.js";
import { PkgSchema } from "../pkg-schema.js";
import { READ_METHOD_PATH } from "../workload.js";
import type { BenchClient, BenchClientOptions } from "./bench-client.js";

/**
 * The raw-socket bound's client: one `net` connection (whatever
 * `connections` says), calls multiplexed on it by stream id, each call one
 * protobuf-es-encoded `Pkg` in one nap DATA frame; the frames of the calls
 * made in one tick leave in one write (as the server answers each `data`
 * chunk with one write). No deadline, keepalive, pool or interceptor: the
 * least a Node.js client must do to make the call.
 */
export async function createRawClient(options: BenchClientOptions): Promise<BenchClient> {
  const [host, port] = splitAddress(options.address);
  const socket: Socket = connect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const { params } = options;
  const key = params.letter.repeat(params.sizeBytes);
  const meta = { username: params.username, token: params.token };
  const inFlight = new Map<number, (ok: boolean) => void>();
  let nextStreamId = 1;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const reader = new FrameReader();
  const failAll = (): void => {
    for (const resolve of inFlight.values()) resolve(false);
    inFlight.clear();
  };
  socket.on("error", failAll);
  socket.on("close", failAll);
  socket.on("data", (chunk: Buffer) => {
    reader.push(chunk, (streamId, type, payload) => {
      if (type !== FRAME_DATA) return;
      const resolve = inFlight.get(streamId);
      if (resolve === undefined) return;
      inFlight.delete(streamId);
      const response = fromBinary(PkgSchema, payload);
      const status = response.head?.meta["dora-status"];
      if (status !== undefined && status !== "0") {
        resolve(false);
        return;
      }
      const body = fromBinary(ReadSecureMessageResponseSchema, response.payload);
      resolve((body.status?.code ?? Code.OK) === Code.OK && body.value.length === params.sizeBytes);
    });
  });
  return {
    call(): Promise<boolean> {
      const streamId = nextStreamId;
      nextStreamId = nextStreamId === 0xffffffff ? 1 : nextStreamId + 1;
      const payload = toBinary(ReadSecureMessageRequestSchema, { $typeName: "kv.v1.ReadSecureMessageRequest", key });
      const pkg = toBinary(PkgSchema, {
        $typeName: "dora.bench.v1.Pkg",
        head: { $typeName: "dora.bench.v1.Head", version: 0, serializeType: "proto", seq: BigInt(streamId), method: READ_METHOD_PATH, meta },
        payload,
      });
      return new Promise<boolean>((resolve) => {
        inFlight.set(streamId, resolve);
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        socket.write(encodeFrame(streamId, pkg));
      });
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.end();
      });
    },
  };
}

/** Splits `host:port` (`[v6]:port` too) with a host and a port of 1..65535. */
export function splitAddress(address: string): [string, number] {
  const parsed = parseHostPort(address);
  if (parsed === undefined || parsed.host === "" || parsed.port < 1) throw new Error(`address must be HOST:PORT (got ${JSON.stringify(address)})`);
  return [parsed.host, parsed.port];
}
