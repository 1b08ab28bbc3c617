/**
 * Fuzzing (fast-check): the frame and Pkg decoders fed arbitrary bytes split
 * anywhere, and a real server fed thousands of random byte streams on real
 * connections while a well-behaved client keeps calling it.
 */
import net from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type Client } from "./client.js";
import { Code } from "./code.js";
import { protoCodec } from "./codec.js";
import { FrameDecoder, FrameError } from "./protocol/frame-decoder.js";
import { FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING, writeFrameHeader } from "./protocol/frame.js";
import { decodePkg, encodePkgFrame, PkgError } from "./protocol/pkg.js";
import { EchoRequestSchema, EchoService, method } from "./test-helpers/echo-service.js";
import { startEchoServer, within, type EchoServer } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const ECHO = "/dora.test.v1.EchoService/Echo";

afterEach(() => vi.restoreAllMocks());

/** A frame header with `length`, `type` and `flags`, then `payload`. */
function frame(length: number, streamId: number, type: number, flags: number, payload: Uint8Array): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(buf, 0, length, streamId, type, flags);
  buf.set(payload, FRAME_HEADER_BYTES);
  return buf;
}

/** A well-formed request frame: a Pkg for Echo carrying `text`. */
function echoFrame(streamId: number, text: string): Buffer {
  return encodePkgFrame(streamId, { version: 0, serializeType: "proto", seq: streamId, method: ECHO }, undefined, undefined, protoCodec.encode(EchoRequestSchema, { text } as never));
}

/**
 * Byte streams a hostile peer might send: pure noise; frames with lying
 * lengths, unknown types and random payloads; well-formed requests followed
 * by noise; and valid-looking headers whose body never comes.
 */
const hostileStream: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc
    .array(
      fc.record({
        length: fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(0xffffffff, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1), fc.nat()),
        streamId: fc.oneof(fc.nat({ max: 4 }), fc.constant(0xffffffff)),
        type: fc.oneof(fc.constantFrom(FRAME_DATA, FRAME_PING), fc.integer({ min: 0, max: 255 })),
        flags: fc.integer({ min: 0, max: 255 }),
        payload: fc.uint8Array({ maxLength: 64 }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((frames) => Buffer.concat(frames.map((f) => frame(f.length, f.streamId, f.type, f.flags, f.payload)))),
  fc.tuple(fc.nat({ max: 1000 }), fc.uint8Array({ minLength: 1, maxLength: 512 })).map(([id, noise]) => Buffer.concat([echoFrame(id, "ok"), Buffer.from(noise)])),
);

/** Split points: `bytes` cut into pieces at arbitrary offsets. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) pieces.push(bytes.subarray(from, to));
    from = to;
  }
  return pieces;
}

describe("frame decoder fuzzing", () => {
  it("on arbitrary bytes split anywhere: throws only FrameError, hands out no frame above the maximum, buffers at most one frame", () => {
    const maxFrameBytes = 256;
    fc.assert(
      fc.property(fc.oneof(hostileStream, fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b))), fc.array(fc.nat(), { maxLength: 40 }), (bytes, cuts) => {
        const decoder = new FrameDecoder(maxFrameBytes, (_type, _flags, _id, payload) => {
          expect(payload.length).toBeLessThanOrEqual(maxFrameBytes);
        });
        const concat = vi.spyOn(Buffer, "concat");
        try {
          for (const piece of split(bytes, cuts)) {
            const before = decoder.bufferedBytes;
            try {
              decoder.push(piece);
            } catch (err) {
              expect(err).toBeInstanceOf(FrameError);
              return;
            }
            // Whatever is kept is one unfinished frame, never more than a header plus the maximum.
            expect(decoder.bufferedBytes).toBeLessThan(FRAME_HEADER_BYTES + maxFrameBytes);
            // A copy joins what was kept with the piece just received, and nothing more.
            for (const result of concat.mock.results) expect((result.value as Buffer).length).toBeLessThanOrEqual(before + piece.length);
            concat.mockClear();
          }
        } finally {
          concat.mockRestore();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("decodes the same frames whatever the split points", () => {
    const frames = fc.array(fc.record({ streamId: fc.nat(), type: fc.constantFrom(FRAME_DATA, FRAME_PING), flags: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 10 });
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 30 }), (list, cuts) => {
        const bytes = Buffer.concat(list.map((f) => frame(f.payload.length, f.streamId, f.type, f.flags, f.payload)));
        const seen: string[] = [];
        const decoder = new FrameDecoder(1024, (type, flags, streamId, payload) => seen.push(`${type}/${flags}/${streamId}/${payload.toString("hex")}`));
        for (const piece of split(bytes, cuts)) decoder.push(piece);
        expect(seen).toEqual(list.map((f) => `${f.type}/${f.flags}/${f.streamId}/${Buffer.from(f.payload).toString("hex")}`));
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("Pkg decoder fuzzing", () => {
  const validPkg = fc
    .record({ id: fc.nat(), text: fc.string({ maxLength: 100 }), meta: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 4 }) })
    .map(({ id, text, meta }) => encodePkgFrame(id, { version: 0, serializeType: "proto", seq: id, method: ECHO }, meta, undefined, protoCodec.encode(EchoRequestSchema, { text } as never)).subarray(FRAME_HEADER_BYTES));

  it("on arbitrary bytes, and on valid envelopes with bytes flipped, cut or spliced: throws only PkgError, and no string or payload it reads is longer than its input", () => {
    const mutated = fc.oneof(
      fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)),
      fc.tuple(validPkg, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([pkg, at, byte]) => {
        const copy = Buffer.from(pkg);
        if (copy.length > 0) copy[at % copy.length] = byte;
        return copy;
      }),
      fc.tuple(validPkg, fc.nat()).map(([pkg, cut]) => Buffer.from(pkg.subarray(0, cut % (pkg.length + 1)))),
      fc.tuple(validPkg, validPkg, fc.nat(), fc.nat()).map(([a, b, i, j]) => Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))])),
    );
    fc.assert(
      fc.property(mutated, (bytes) => {
        let pkg;
        try {
          pkg = decodePkg(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(PkgError);
          return;
        }
        expect(pkg.payload.length).toBeLessThanOrEqual(bytes.length);
        const head = pkg.head;
        if (head === undefined) return;
        expect(Buffer.byteLength(head.method) + Buffer.byteLength(head.serializeType) + head.metaBytes).toBeLessThanOrEqual(bytes.length * 3);
        expect(head.metaBytes).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("a real server fed random byte streams", () => {
  let echo: EchoServer | undefined;
  let client: Client | undefined;
  afterEach(async () => {
    await client?.close();
    await echo?.server.close();
  });

  it("stays up and closes each of 2,000 hostile connections, while a well-behaved client alongside gets every answer right", { timeout: 240_000 }, async () => {
    // Short timeouts so that a stream that leaves a frame unfinished is closed soon, not only the ones that break framing.
    echo = await startEchoServer({ frameTimeoutMs: 300, keepaliveTimeMs: 200, keepaliveTimeoutMs: 300, maxFrameBytes: 64 * 1024 });
    const port = echo.port;
    client = createClient({ address: echo.address, poolSize: 2, timeoutMs: 30_000 });
    const good = client;
    let answered = 0;
    let wrong = 0;
    let hostileDone = false;
    const wellBehaved = (async () => {
      for (let i = 0; !hostileDone; i++) {
        const text = `call ${i}`;
        const res = await good.unary(Echo, { text });
        if (res.text === text) answered++;
        else wrong++;
      }
    })();

    const streams = fc.sample(fc.tuple(hostileStream, fc.array(fc.nat(), { maxLength: 6 })), { numRuns: 2000, seed: 20261126 });
    let closedByServer = 0;
    const batch = 50;
    for (let b = 0; b < streams.length; b += batch) {
      const results = await Promise.all(
        streams.slice(b, b + batch).map(
          ([bytes, cuts]) =>
            new Promise<boolean>((resolve) => {
              const socket = net.connect({ host: "127.0.0.1", port });
              socket.on("error", () => {});
              socket.on("data", () => {}); // read whatever the server answers
              socket.once("connect", () => {
                for (const piece of split(bytes, cuts)) socket.write(piece);
              });
              const closed = new Promise<void>((r) => socket.once("close", () => r()));
              // The peer never closes first: a close it sees is the server's.
              void within(closed, 20_000).then((byServer) => {
                socket.destroy();
                resolve(byServer);
              });
            }),
        ),
      );
      closedByServer += results.filter(Boolean).length;
    }
    hostileDone = true;
    await wellBehaved;

    console.info(`fuzz: ${streams.length} hostile streams (${streams.reduce((n, [b]) => n + b.length, 0)} bytes), ${closedByServer} closed by the server; well-behaved calls: ${answered} right, ${wrong} wrong`);
    expect(closedByServer).toBe(streams.length);
    expect(wrong).toBe(0);
    expect(answered).toBeGreaterThan(0);
    // Still serving after it all.
    expect(await good.unary(Echo, { text: "after" })).toMatchObject({ text: "after" });
    const code = await good.unary(Echo, { text: "x" }).then(
      () => Code.Ok,
      () => Code.Unknown,
    );
    expect(code).toBe(Code.Ok);
  });
});
