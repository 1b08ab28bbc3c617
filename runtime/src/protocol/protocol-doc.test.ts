import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadProto, runtimeSrc } from "../test-helpers/load-proto.js";
import { decodePkg, encodePkgFrame } from "./pkg.js";
import { emptyStreamFrame, encodeEndFrame, encodeMessageFrame, encodeOpenFrame, FLAG_END, FLAG_MESSAGE, FLAG_OPEN, FLAG_RESET, windowFrame } from "./stream-frame.js";

// docs/protocol.md shows one Login request and its answer, and the frames of
// one server stream, byte by byte; this keeps that page equal to what the
// runtime writes, with kv.proto's real messages.
const doc = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
const hexLines = [...doc.matchAll(/^Hex[^`]*`([0-9a-f]+)`/gm)].map((m) => m[1]!);

const registry = loadProto(path.resolve(runtimeSrc, "../../tiger"), "kv/v1/kv.proto");
const LoginRequest = registry.getMessage("kv.v1.LoginRequest") as DescMessage;
const LoginResponse = registry.getMessage("kv.v1.LoginResponse") as DescMessage;
const WatchRequest = registry.getMessage("kv.v1.WatchSecureMessageRequest") as DescMessage;
const WatchResponse = registry.getMessage("kv.v1.WatchSecureMessageResponse") as DescMessage;
const LOGIN = { version: 0, serializeType: "proto", seq: 1, method: "/kv.v1.KvService/Login" };
const WATCH = { version: 0, serializeType: "proto", seq: 2, method: "/kv.v1.KvService/WatchSecureMessage" };

describe("docs/protocol.md", () => {
  it("shows ten hex dumps", () => {
    expect(hexLines).toHaveLength(10);
  });

  it("shows the bytes the runtime writes for a Login request", () => {
    const payload = toBinary(LoginRequest, create(LoginRequest, { username: "100", password: "100" } as never));
    const frame = encodePkgFrame(1, LOGIN, undefined, { "dora-timeout": "5000" }, payload);
    expect(frame.toString("hex")).toBe(hexLines[0]);
  });

  it("shows the bytes the runtime writes for its answer", () => {
    const payload = toBinary(LoginResponse, create(LoginResponse, { token: "6f1c2a9e-0b7d-4d3e-9a51-2c8e4f7b1d60" } as never));
    const frame = encodePkgFrame(1, LOGIN, undefined, undefined, payload);
    expect(frame.toString("hex")).toBe(hexLines[1]);
    const pkg = decodePkg(frame.subarray(10));
    expect(pkg.head).toMatchObject({ serializeType: "proto", seq: 1, method: "/kv.v1.KvService/Login" });
  });

  describe("streaming", () => {
    const request = toBinary(WatchRequest, create(WatchRequest, { key: "a" } as never));
    const message = toBinary(WatchResponse, create(WatchResponse, { key: "a", value: "m" } as never));

    it("shows the client's OPEN|MESSAGE|END frame of a server-streaming call", () => {
      const frame = encodeOpenFrame(3, FLAG_OPEN | FLAG_MESSAGE | FLAG_END, WATCH, { username: "1" }, undefined, request);
      expect(frame.toString("hex")).toBe(hexLines[2]);
      expect(decodePkg(frame.subarray(10)).head?.meta).toEqual({ username: "1" });
    });

    it("shows the server's first message (OPEN|MESSAGE) and a further one (MESSAGE)", () => {
      expect(encodeOpenFrame(3, FLAG_OPEN | FLAG_MESSAGE, WATCH, undefined, undefined, message).toString("hex")).toBe(hexLines[3]);
      const frame = encodeMessageFrame(3, FLAG_MESSAGE, message);
      expect(frame.toString("hex")).toBe(hexLines[4]);
      expect(Buffer.from(decodePkg(frame.subarray(10)).payload)).toEqual(Buffer.from(message));
    });

    it("shows a WINDOW frame", () => {
      expect(windowFrame(3, 32768).toString("hex")).toBe(hexLines[5]);
    });

    it("shows the server's END, with a trailer and with an error status", () => {
      expect(encodeEndFrame(3, FLAG_END, { "x-sent": "2" }, undefined).toString("hex")).toBe(hexLines[6]);
      expect(encodeEndFrame(3, FLAG_END, undefined, { "dora-status": "8", "dora-message": "server closed" }).toString("hex")).toBe(hexLines[7]);
    });

    it("shows the client's RESET and half-close", () => {
      expect(emptyStreamFrame(3, FLAG_RESET).toString("hex")).toBe(hexLines[8]);
      expect(emptyStreamFrame(3, FLAG_END).toString("hex")).toBe(hexLines[9]);
    });
  });
});
