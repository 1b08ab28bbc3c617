import { describe, expect, it } from "vitest";
import { Code, codeFromName, codeName } from "./code.js";
import { DoraError, isDoraError } from "./dora-error.js";

describe("Code", () => {
  it("holds the wire numbers of SPEC §3.4", () => {
    expect({ ...Code }).toMatchObject({
      Ok: 0,
      Unimplemented: 1,
      BadRequest: 2,
      NotFound: 3,
      PermissionDenied: 4,
      Internal: 5,
      Unauthenticated: 6,
      Unknown: 7,
      Unavailable: 8,
      InternalServerError: 9,
      OutOfRange: 10,
      DeadlineExceeded: 11,
      Canceled: 12,
      ResourceExhausted: 13,
    });
  });

  it("names codes, and application codes by number", () => {
    expect(codeName(Code.Unauthenticated)).toBe("Unauthenticated");
    expect(codeName(42)).toBe("Code(42)");
    expect(codeFromName("deadlineexceeded")).toBe(Code.DeadlineExceeded);
    expect(codeFromName("Nope")).toBeUndefined();
  });
});

describe("DoraError", () => {
  it("keeps code and raw message, prefixing the code name in message", () => {
    const err = new DoraError(Code.NotFound, "no such key", { metadata: { k: "v" } });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe("no such key");
    expect(err.message).toBe("[NotFound] no such key");
    expect(err.metadata).toEqual({ k: "v" });
    expect(new DoraError(77).message).toBe("[Code(77)]");
  });

  it("wraps any thrown value, keeping the original as cause", () => {
    const same = new DoraError(Code.Internal, "x");
    expect(DoraError.from(same)).toBe(same);
    const plain = new Error("disk on fire");
    expect(DoraError.from(plain)).toMatchObject({ code: Code.Unknown, rawMessage: "disk on fire", cause: plain });
    expect(DoraError.from(plain, Code.Unavailable).code).toBe(Code.Unavailable);
    expect(DoraError.from("text")).toMatchObject({ code: Code.Unknown, rawMessage: "text", cause: "text" });
    expect(DoraError.from(42).rawMessage).toBe("42");
  });

  it("maps AbortError to Canceled and TimeoutError to DeadlineExceeded", () => {
    expect(DoraError.from(new DOMException("aborted", "AbortError")).code).toBe(Code.Canceled);
    expect(DoraError.from(AbortSignal.abort().reason).code).toBe(Code.Canceled);
    expect(DoraError.from(new DOMException("slow", "TimeoutError")).code).toBe(Code.DeadlineExceeded);
  });

  it("is recognised by isDoraError, optionally by code", () => {
    const err = new DoraError(Code.Unavailable);
    expect(isDoraError(err)).toBe(true);
    expect(isDoraError(err, Code.Unavailable)).toBe(true);
    expect(isDoraError(err, Code.Internal)).toBe(false);
    expect(isDoraError(new Error("x"))).toBe(false);
  });
});
