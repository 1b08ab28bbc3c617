import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Client } from "./client.js";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import { DORA_V2_MAX_FRAME_BYTES, doraV2CompatClientOptions, doraV2CompatServerOptions } from "./dora-v2-compat.js";
import { FRAME_DATA, FRAME_HEADER_BYTES, writeFrameHeader } from "./protocol/frame.js";
import { decodePkg } from "./protocol/pkg.js";
import { silentLogger } from "./logger.js";
import { createServer } from "./server.js";
import { EchoService, method, type EchoRequest } from "./test-helpers/echo-service.js";
import { RawPeer, startRawServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function failure(p: Promise<unknown>): Promise<DoraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the call succeeded").toBeInstanceOf(DoraError);
  return e as DoraError;
}

describe("settings for dora v2 Go peers", () => {
  it("are 64 KiB frames, and bare method names on the client", () => {
    expect(DORA_V2_MAX_FRAME_BYTES).toBe(65536);
    expect(doraV2CompatClientOptions).toEqual({ maxFrameBytes: 65536, bareMethodNames: true });
    expect(doraV2CompatServerOptions).toEqual({ maxFrameBytes: 65536 });
  });

  it("make a client send bare names and refuse a request a Go server would reject, keeping the connection", async () => {
    const methods: string[] = [];
    const raw = await startRawServer({ speakDora: true, onFrame: (_s, f) => f.type === FRAME_DATA && methods.push(decodePkg(f.payload).head!.method) });
    cleanups.push(raw.close);
    const client: Client = createClient({ address: raw.address, poolSize: 1, timeoutMs: 100, ...doraV2CompatClientOptions });
    cleanups.push(() => client.close());
    expect((await failure(client.unary(Echo, { blob: new Uint8Array(DORA_V2_MAX_FRAME_BYTES) }))).code).toBe(Code.OutOfRange);
    expect((await failure(client.unary(Echo, { text: "small" }))).code).toBe(Code.DeadlineExceeded); // the raw server never answers
    expect(methods).toEqual(["Echo"]);
  });

  it("make a server answer OutOfRange rather than send a frame above 64 KiB, and close a connection that sends one", async () => {
    // Echo answers `text` bytes: 60 KiB fits in a dora v2 frame, 64 KiB with its head does not.
    const server = createServer({ ...doraV2CompatServerOptions, logger: silentLogger });
    server.register(EchoService, { echo: async (req: EchoRequest) => ({ text: "y".repeat(Number(req.text)) }) });
    const { port } = await server.listen();
    cleanups.push(() => server.close());
    const p = await RawPeer.connect(port);
    cleanups.push(async () => p.destroy());
    p.call(1, "Echo", { text: String(60 * 1024) });
    expect((await p.answer(1)).text).toHaveLength(60 * 1024);
    p.call(2, "Echo", { text: String(64 * 1024) });
    expect(await p.answer(2)).toMatchObject({ code: Code.OutOfRange, message: "response exceeds the maximum frame size" });
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    writeFrameHeader(header, 0, DORA_V2_MAX_FRAME_BYTES + 1, 3, FRAME_DATA, 0);
    p.write(header);
    await p.closed;
  });
});
