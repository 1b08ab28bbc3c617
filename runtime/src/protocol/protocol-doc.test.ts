import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadProto, runtimeSrc } from "../test-helpers/load-proto.js";
import { decodePkg, encodePkgFrame } from "./pkg.js";

// docs/protocol.md shows one Login request and its answer byte by byte; this
// keeps that page equal to what the runtime writes, with kv.proto's real messages.
const doc = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
const hexLines = [...doc.matchAll(/^Hex[^`]*`([0-9a-f]+)`/gm)].map((m) => m[1]!);

const registry = loadProto(path.resolve(runtimeSrc, "../../tiger"), "kv/v1/kv.proto");
const LoginRequest = registry.getMessage("kv.v1.LoginRequest") as DescMessage;
const LoginResponse = registry.getMessage("kv.v1.LoginResponse") as DescMessage;
const LOGIN = { version: 0, serializeType: "proto", seq: 1, method: "/kv.v1.KvService/Login" };

describe("docs/protocol.md", () => {
  it("shows two hex dumps", () => {
    expect(hexLines).toHaveLength(2);
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
});
