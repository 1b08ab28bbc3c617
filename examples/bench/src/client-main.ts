/**
 * Entry point of a competitor's client process:
 *   node dist/client-main.js --client NAME --address HOST:PORT --token T
 *     [--connections N] [--concurrency 12] (--requests N | --duration S) [--username U] [--letter c] [--size 2000]
 *     [--messages-per-stream 1000]
 * Runs the callers and prints the result as one line of JSON on stdout. The
 * `*-stream` clients run the server-streaming comparison: `--requests`
 * counts messages, received over streams of `--messages-per-stream`.
 */
import { parseArgs } from "node:util";
import { nonNegative, positiveInt } from "./args.js";
import type { BenchClient, BenchClientOptions, BenchStreamClient } from "./clients/bench-client.js";
import { runCallers, runStreamCallers, type RunLength } from "./client-loop.js";
import { DEFAULT_STREAM_WORKLOAD, DEFAULT_WORKLOAD } from "./workload.js";

type ClientFactory = (options: BenchClientOptions) => Promise<BenchClient>;
type StreamClientFactory = (options: BenchClientOptions) => Promise<BenchStreamClient>;

// Loaded on demand, so a client process loads only its own stack (its start-up counts in its CPU per call).
const CLIENTS: Record<string, () => Promise<ClientFactory>> = {
  raw: async () => (await import("./clients/raw-client.js")).createRawClient,
  "grpc-js": async () => (await import("./clients/grpc-js-client.js")).createGrpcJsClient,
  "connect-grpc": async () => (await import("./clients/connect-client.js")).createConnectBenchClient("grpc"),
  "connect-connect": async () => (await import("./clients/connect-client.js")).createConnectBenchClient("connect"),
  "connect-grpc-web": async () => (await import("./clients/connect-client.js")).createConnectBenchClient("grpc-web"),
  "runtime-kv": async () => (await import("./clients/runtime-kv-client.js")).createRuntimeKvClient,
};

const STREAM_CLIENTS: Record<string, () => Promise<StreamClientFactory>> = {
  "grpc-js-stream": async () => (await import("./clients/grpc-js-stream-client.js")).createGrpcJsStreamClient,
  "runtime-kv-stream": async () => (await import("./clients/runtime-kv-stream-client.js")).createRuntimeKvStreamClient,
};

const { values } = parseArgs({
  options: {
    client: { type: "string" },
    address: { type: "string" },
    token: { type: "string" },
    connections: { type: "string", default: "1" },
    concurrency: { type: "string", default: String(DEFAULT_WORKLOAD.concurrency) },
    requests: { type: "string" },
    duration: { type: "string" },
    username: { type: "string", default: DEFAULT_WORKLOAD.username },
    letter: { type: "string", default: DEFAULT_WORKLOAD.letter },
    size: { type: "string", default: String(DEFAULT_WORKLOAD.sizeBytes) },
    "messages-per-stream": { type: "string", default: String(DEFAULT_STREAM_WORKLOAD.messagesPerStream) },
  },
  strict: true,
});

function usage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const name = values.client ?? "";
const loadUnary = CLIENTS[name];
const loadStream = STREAM_CLIENTS[name];
if (loadUnary === undefined && loadStream === undefined) usage(`--client must be one of ${[...Object.keys(CLIENTS), ...Object.keys(STREAM_CLIENTS)].join(", ")}`);
if (values.address === undefined) usage("--address is required");
if (values.token === undefined) usage("--token is required");
let length: RunLength;
if (values.duration !== undefined) length = { seconds: nonNegative("--duration", values.duration) };
else length = { requestsPerCaller: positiveInt("--requests", values.requests ?? String(DEFAULT_WORKLOAD.requestsPerCaller)) };

const options: BenchClientOptions = {
  address: values.address,
  connections: positiveInt("--connections", values.connections),
  params: { username: values.username, token: values.token, letter: values.letter, sizeBytes: positiveInt("--size", values.size) },
};
const concurrency = positiveInt("--concurrency", values.concurrency);
let result;
if (loadStream !== undefined) {
  const messagesPerStream = positiveInt("--messages-per-stream", values["messages-per-stream"]);
  const client = await (await loadStream())(options);
  result = await runStreamCallers(client, concurrency, length, messagesPerStream);
  await client.close();
} else {
  const client = await (await loadUnary!())(options);
  result = await runCallers(client, concurrency, length);
  await client.close();
}
process.stdout.write(`${JSON.stringify({ client: values.client, ...result })}\n`);
process.exit(0);
