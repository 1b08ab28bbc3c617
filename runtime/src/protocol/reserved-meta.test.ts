import { describe, expect, it } from "vitest";
import { Code } from "../code.js";
import { DoraError } from "../dora-error.js";
import { EMPTY_META, parseTimeout, statusFromMeta, statusMeta, stripReserved } from "./reserved-meta.js";

describe("reserved metadata (SPEC §3.2)", () => {
  it("strips dora- keys, returning the same object when there is nothing to strip", () => {
    const plain = { username: "1", token: "t" };
    expect(stripReserved(plain)).toBe(plain);
    expect(stripReserved({ username: "1", "dora-timeout": "5", "dora-x": "y" })).toEqual({ username: "1" });
    expect(stripReserved(undefined)).toBe(EMPTY_META);
  });

  it("parses dora-timeout as a non-negative integer of milliseconds and nothing else", () => {
    expect(parseTimeout("0")).toBe(0);
    expect(parseTimeout("5000")).toBe(5000);
    expect(parseTimeout("999999999999999")).toBe(999999999999999);
    for (const bad of ["", "-1", "1.5", "soon", " 5", "1e3", "1234567890123456"]) expect(parseTimeout(bad), bad).toBeUndefined();
  });

  it("reads the status of an answer: OK when absent or 0, else an error with code, message and user metadata", () => {
    expect(statusFromMeta(undefined)).toBeUndefined();
    expect(statusFromMeta({ "dora-status": "0", x: "1" })).toBeUndefined();
    const err = statusFromMeta({ "dora-status": "6", "dora-message": "no session", "x-trace": "t" });
    expect(err).toBeInstanceOf(DoraError);
    expect(err).toMatchObject({ code: Code.Unauthenticated, rawMessage: "no session", metadata: { "x-trace": "t" } });
    expect(statusFromMeta({ "dora-status": "abc" })).toMatchObject({ code: Code.Unknown, rawMessage: "" });
  });

  it("writes a status as dora-status and, when there is one, dora-message", () => {
    expect(statusMeta(Code.NotFound, "")).toEqual({ "dora-status": "3" });
    expect(statusMeta(42, "quota")).toEqual({ "dora-status": "42", "dora-message": "quota" });
  });
});
