import { describe, expect, it } from "vitest";
import { MethodRouter } from "./method-router.js";
import { EchoService, OtherService } from "./test-helpers/echo-service.js";
import { createHandlerContext } from "./handler-context.js";
import { DoraError } from "./dora-error.js";
import { Code } from "./code.js";

describe("MethodRouter (SPEC §3.3)", () => {
  const router = new MethodRouter();
  router.register(EchoService, { echo: async () => ({ text: "e" }) });
  router.register(OtherService, {});

  it("finds a method by its fully-qualified name", () => {
    const route = router.lookup("/dora.test.v1.EchoService/Echo");
    expect(route.kind).toBe("found");
    if (route.kind === "found") expect(route.method).toMatchObject({ name: "/dora.test.v1.EchoService/Echo", desc: { name: "Echo" } });
  });

  it("finds a bare name only one service defines, and calls it ambiguous when two do", () => {
    const bare = router.lookup("Other");
    expect(bare.kind === "found" && bare.method.name).toBe("/dora.test.v1.OtherService/Other");
    expect(router.lookup("Shared")).toEqual({ kind: "ambiguous" });
  });

  it("knows no unknown name, qualified or bare", () => {
    expect(router.lookup("/dora.test.v1.EchoService/Nope")).toEqual({ kind: "unknown" });
    expect(router.lookup("Nope")).toEqual({ kind: "unknown" });
    expect(router.lookup("/Echo")).toEqual({ kind: "unknown" });
  });

  it("answers Unimplemented for a method the implementation lacks", async () => {
    const route = router.lookup("/dora.test.v1.OtherService/Other");
    if (route.kind !== "found") throw new Error("not found");
    const err = await Promise.resolve(route.method.handler({} as never, createHandlerContext())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoraError);
    expect(err).toMatchObject({ code: Code.Unimplemented, rawMessage: "method /dora.test.v1.OtherService/Other is not implemented" });
  });

  it("looks names up without allocating: the same route object every time", () => {
    expect(router.lookup("/dora.test.v1.EchoService/Echo")).toBe(router.lookup("/dora.test.v1.EchoService/Echo"));
    expect(router.lookup("nothing")).toBe(router.lookup("else"));
  });
});
