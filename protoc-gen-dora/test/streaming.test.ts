import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createInProcessClient, createServer, DoraError, type Client, type HandlerContext, type Server } from "@dora/runtime";
import { createStreamingServiceClient, registerStreamingService, StreamingServiceMethodNames, type StreamingService } from "./gen/dora/test/v1/streaming_dora.js";
import type { CountUpRequest, Number as NumberMessage } from "./gen/dora/test/v1/streaming_pb.js";

/**
 * A generated service with every kind of rpc, registered on a real dora
 * Server and called through the generated client over loopback and in
 * process (SPEC §5, behaviour tier).
 */

const streaming: StreamingService = {
  async add(request) {
    return { value: request.value + 1n };
  },
  async *countUp(request: CountUpRequest, context: HandlerContext) {
    context.responseMeta["x-start"] = String(request.start);
    for (let i = 0; i < request.count; i++) yield { value: request.start + BigInt(i) };
    context.responseTrailers["x-sent"] = String(request.count);
  },
  async sum(requests: AsyncIterable<NumberMessage>) {
    let total = 0n;
    for await (const n of requests) total += n.value;
    return { value: total };
  },
  async *double(requests: AsyncIterable<NumberMessage>) {
    for await (const n of requests) {
      if (n.value < 0n) throw new DoraError(Code.BadRequest, "negative", { metadata: { "x-bad": String(n.value) } });
      yield { value: n.value * 2n };
    }
  },
  async *clock() {
    yield timestampFromDate(new Date(0));
  },
};

async function* numbers(...values: number[]): AsyncIterable<{ value: bigint }> {
  for (const v of values) yield { value: BigInt(v) };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("generated streaming rpcs", () => {
  let server: Server;
  let client: Client;

  beforeAll(async () => {
    server = createServer();
    registerStreamingService(server, streaming);
    const { port } = await server.listen({ port: 0 });
    client = createClient({ address: `127.0.0.1:${port}`, poolSize: 1 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  for (const [name, make] of [
    ["over loopback", () => client],
    ["in process", () => createInProcessClient(server)],
  ] as const) {
    describe(name, () => {
      it("calls a unary rpc of a service that also streams", async () => {
        expect((await createStreamingServiceClient(make()).add({ value: 41n })).value).toBe(42n);
      });

      it("reads a server stream in order, with its headers and trailers", async () => {
        let headers: Readonly<Record<string, string>> = {};
        let trailers: Readonly<Record<string, string>> = {};
        const kv = createStreamingServiceClient(make());
        const got = await collect(kv.countUp({ start: 10n, count: 5 }, { onHeader: (h) => (headers = h), onTrailer: (t) => (trailers = t) }));
        expect(got.map((n) => n.value)).toEqual([10n, 11n, 12n, 13n, 14n]);
        expect(headers).toEqual({ "x-start": "10" });
        expect(trailers).toEqual({ "x-sent": "5" });
      });

      it("sends a client stream and gets its one answer", async () => {
        expect((await createStreamingServiceClient(make()).sum(numbers(1, 2, 3, 4))).value).toBe(10n);
      });

      it("runs a bidirectional stream, and carries an error mid-stream with its code and metadata", async () => {
        const kv = createStreamingServiceClient(make());
        expect((await collect(kv.double(numbers(1, 2, 3)))).map((n) => n.value)).toEqual([2n, 4n, 6n]);
        const seen: bigint[] = [];
        const err = await (async () => {
          try {
            for await (const n of kv.double(numbers(1, 2, -3, 4))) seen.push(n.value);
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(seen).toEqual([2n, 4n]);
        expect(err).toBeInstanceOf(DoraError);
        expect(err).toMatchObject({ code: Code.BadRequest, rawMessage: "negative", metadata: { "x-bad": "-3" } });
      });

      it("streams well-known types", async () => {
        const got = await collect(createStreamingServiceClient(make()).clock({}));
        expect(got.map((t) => t.seconds)).toEqual([0n]);
      });
    });
  }

  it("names every method, streaming ones included", () => {
    expect(StreamingServiceMethodNames).toEqual({
      add: "/dora.test.v1.StreamingService/Add",
      countUp: "/dora.test.v1.StreamingService/CountUp",
      sum: "/dora.test.v1.StreamingService/Sum",
      double: "/dora.test.v1.StreamingService/Double",
      clock: "/dora.test.v1.StreamingService/Clock",
    });
  });
});
