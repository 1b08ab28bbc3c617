import { describe, expect, it } from "vitest";
import { FrameDecoder, FrameError } from "./frame-decoder.js";
import { FLAG_ACK, FRAME_DATA, FRAME_HEADER_BYTES, FRAME_PING, pingFrame, writeFrameHeader } from "./frame.js";

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: string;
}

function frame(streamId: number, payload: Buffer, type = FRAME_DATA, flags = 0): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(buf, 0, payload.length, streamId, type, flags);
  payload.copy(buf, FRAME_HEADER_BYTES);
  return buf;
}

/** A copy of `buf` in its own memory (not Node's shared pool), so `.buffer` tells views of it apart. */
function unpooled(buf: Buffer): Buffer {
  const own = Buffer.alloc(buf.length);
  buf.copy(own);
  return own;
}

function collector(max = 1024) {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder(max, (type, flags, streamId, payload) => frames.push({ type, flags, streamId, payload: payload.toString("hex") }));
  return { frames, decoder };
}

const wire = Buffer.concat([
  frame(1, Buffer.from("hello")),
  frame(0, Buffer.alloc(0), FRAME_PING),
  frame(0xffffffff, Buffer.alloc(300, 7)),
  frame(2, Buffer.alloc(0)),
  frame(3, Buffer.from("x"), FRAME_PING, FLAG_ACK),
]);
const expected: Frame[] = [
  { type: FRAME_DATA, flags: 0, streamId: 1, payload: Buffer.from("hello").toString("hex") },
  { type: FRAME_PING, flags: 0, streamId: 0, payload: "" },
  { type: FRAME_DATA, flags: 0, streamId: 0xffffffff, payload: Buffer.alloc(300, 7).toString("hex") },
  { type: FRAME_DATA, flags: 0, streamId: 2, payload: "" },
  { type: FRAME_PING, flags: FLAG_ACK, streamId: 3, payload: Buffer.from("x").toString("hex") },
];

describe("FrameDecoder", () => {
  it("decodes back-to-back frames delivered in one chunk", () => {
    const { frames, decoder } = collector();
    decoder.push(wire);
    expect(frames).toEqual(expected);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("decodes the same frames when the bytes are split at every boundary", () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const { frames, decoder } = collector();
      decoder.push(wire.subarray(0, cut));
      decoder.push(wire.subarray(cut));
      expect(frames, `split at byte ${cut}`).toEqual(expected);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it("decodes the same frames when every byte arrives on its own", () => {
    const { frames, decoder } = collector();
    for (let i = 0; i < wire.length; i++) decoder.push(wire.subarray(i, i + 1));
    expect(frames).toEqual(expected);
  });

  it("decodes the same frames split into three pieces at every pair of boundaries of the first frames", () => {
    const head = wire.subarray(0, 40);
    const tail = wire.subarray(40);
    for (let a = 1; a < head.length; a++) {
      for (let b = a + 1; b < head.length; b++) {
        const { frames, decoder } = collector();
        decoder.push(head.subarray(0, a));
        decoder.push(head.subarray(a, b));
        decoder.push(Buffer.concat([head.subarray(b), tail]));
        expect(frames).toEqual(expected);
      }
    }
  });

  it("hands out payloads of a frame within one chunk as views, without copying", () => {
    const chunk = frame(9, Buffer.from("view"));
    let payload: Buffer | undefined;
    new FrameDecoder(1024, (_t, _f, _s, p) => (payload = p)).push(chunk);
    expect(payload!.buffer).toBe(chunk.buffer);
  });

  it("copies only the frame that spans chunks: the frames after it in the completing chunk stay views of that chunk", () => {
    const first = frame(1, Buffer.alloc(50, 1));
    const rest = unpooled(Buffer.concat([first.subarray(20), frame(2, Buffer.from("second")), frame(3, Buffer.from("third"))]));
    const payloads: Buffer[] = [];
    const decoder = new FrameDecoder(1024, (_t, _f, _s, p) => payloads.push(p));
    decoder.push(first.subarray(0, 20));
    decoder.push(rest);
    expect(payloads.map((p) => p.toString("hex"))).toEqual([Buffer.alloc(50, 1).toString("hex"), Buffer.from("second").toString("hex"), Buffer.from("third").toString("hex")]);
    expect(payloads[0]!.buffer).not.toBe(rest.buffer);
    expect(payloads[1]!.buffer).toBe(rest.buffer);
    expect(payloads[2]!.buffer).toBe(rest.buffer);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("copies only the frame that spans chunks when its header was split too", () => {
    const first = frame(1, Buffer.from("abc"));
    const next = frame(2, Buffer.from("view"));
    const payloads: Buffer[] = [];
    const decoder = new FrameDecoder(1024, (_t, _f, _s, p) => payloads.push(p));
    decoder.push(first.subarray(0, 4));
    const completing = unpooled(Buffer.concat([first.subarray(4), next]));
    decoder.push(completing);
    expect(payloads.map((p) => p.toString())).toEqual(["abc", "view"]);
    expect(payloads[1]!.buffer).toBe(completing.buffer);
  });

  it("rejects a declared length above the maximum from the header alone, before the body arrives", () => {
    const { frames, decoder } = collector(100);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    writeFrameHeader(header, 0, 101, 1, FRAME_DATA, 0);
    expect(() => decoder.push(header)).toThrow(FrameError);
    expect(() => collector(100).decoder.push(header)).toThrow("frame length 101 exceeds the maximum of 100 bytes");
    expect(frames).toEqual([]);
  });

  it("rejects an oversize length even when the header itself arrives split", () => {
    const { decoder } = collector(100);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    writeFrameHeader(header, 0, 0xffffffff, 1, FRAME_DATA, 0);
    decoder.push(header.subarray(0, 3));
    expect(() => decoder.push(header.subarray(3))).toThrow(/exceeds the maximum/);
  });

  it("accepts a frame of exactly the maximum length", () => {
    const { frames, decoder } = collector(100);
    decoder.push(frame(1, Buffer.alloc(100, 1)));
    expect(frames).toHaveLength(1);
  });

  it("rejects an unknown frame type", () => {
    const { decoder } = collector();
    expect(() => decoder.push(frame(1, Buffer.from("?"), 0x7))).toThrow("unknown frame type 0x7");
  });

  it("says what broke framing and keeps the offending header, so a client can tell another protocol", () => {
    const http = Buffer.from("HTTP/1.1 400 Bad Request\r\n");
    const oversize = (() => {
      try {
        collector().decoder.push(http);
      } catch (err) {
        return err;
      }
    })();
    expect(oversize).toBeInstanceOf(FrameError);
    expect(oversize).toMatchObject({ kind: "oversize" });
    expect((oversize as FrameError).header.toString("latin1")).toBe("HTTP/1.1 4");
    const unknownType = (() => {
      try {
        collector(0xffffffff).decoder.push(http);
      } catch (err) {
        return err;
      }
    })();
    expect(unknownType).toMatchObject({ kind: "unknown-type", message: "unknown frame type 0x20" });
  });

  it("keeps frames decoded before a bad frame in the same chunk", () => {
    const { frames, decoder } = collector();
    expect(() => decoder.push(Buffer.concat([frame(1, Buffer.from("ok")), frame(2, Buffer.alloc(0), 0x9)]))).toThrow(FrameError);
    expect(frames.map((f) => f.streamId)).toEqual([1]);
  });
});

describe("frame encoding", () => {
  it("writes the 10-byte big-endian header of SPEC §3.1", () => {
    const buf = Buffer.alloc(FRAME_HEADER_BYTES);
    writeFrameHeader(buf, 0, 0x01020304, 0x0a0b0c0d, FRAME_PING, FLAG_ACK);
    expect(buf.toString("hex")).toBe("010203040a0b0c0d0101");
  });

  it("builds PING and PING ACK frames with empty payloads", () => {
    expect(pingFrame(0, false).toString("hex")).toBe("00000000000000000100");
    expect(pingFrame(5, true).toString("hex")).toBe("00000000000000050101");
  });
});
