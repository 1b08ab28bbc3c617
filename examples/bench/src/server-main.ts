/**
 * Entry point of a competitor's server process:
 *   node dist/server-main.js --server raw|grpc-js|connect|runtime-kv --token T [--username U] [--letter c] [--size 2000]
 * Prints `<server> listening on 127.0.0.1:PORT` as its first line once ready
 * (the line etserver prints), and closes and exits 0 on SIGTERM or SIGINT.
 */
import { parseArgs } from "node:util";
import { DEFAULT_WORKLOAD, type WorkloadParams } from "./workload.js";
import type { RunningServer } from "./servers/running-server.js";
import { positiveInt } from "./args.js";

type ServerFactory = (params: WorkloadParams) => Promise<RunningServer>;

// Loaded on demand, so a server process loads only its own stack.
const SERVERS: Record<string, () => Promise<ServerFactory>> = {
  raw: async () => (await import("./servers/raw-server.js")).startRawServer,
  "grpc-js": async () => (await import("./servers/grpc-js-server.js")).startGrpcJsServer,
  connect: async () => (await import("./servers/connect-server.js")).startConnectServer,
  "runtime-kv": async () => (await import("./servers/runtime-kv-server.js")).startRuntimeKvServer,
};

const { values } = parseArgs({
  options: {
    server: { type: "string" },
    token: { type: "string" },
    username: { type: "string", default: DEFAULT_WORKLOAD.username },
    letter: { type: "string", default: DEFAULT_WORKLOAD.letter },
    size: { type: "string", default: String(DEFAULT_WORKLOAD.sizeBytes) },
  },
  strict: true,
});

const load = SERVERS[values.server ?? ""];
if (load === undefined) {
  process.stderr.write(`--server must be one of ${Object.keys(SERVERS).join(", ")}\n`);
  process.exit(2);
}
if (values.token === undefined || values.token === "") {
  process.stderr.write("--token is required\n");
  process.exit(2);
}
const start = await load();
const server = await start({ username: values.username, token: values.token, letter: values.letter, sizeBytes: positiveInt("--size", values.size) });
process.stdout.write(`${values.server} listening on 127.0.0.1:${server.port}\n`);
let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
