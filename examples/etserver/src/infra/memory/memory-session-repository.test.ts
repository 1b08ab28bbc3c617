import { describe, expect, it } from "vitest";
import { MemorySessionRepository } from "./memory-session-repository.js";

describe("MemorySessionRepository", () => {
  it("forgets a session once its TTL has passed", async () => {
    let now = 1_000_000;
    const sessions = new MemorySessionRepository(() => now);
    await sessions.put("1", "t", 10);
    now += 9_999;
    expect(await sessions.tokenOf("1")).toBe("t");
    now += 1;
    expect(await sessions.tokenOf("1")).toBeUndefined();
    sessions.close();
  });
});
