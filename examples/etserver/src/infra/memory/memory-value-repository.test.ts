import { describe, expect, it } from "vitest";
import { MemoryValueFeed } from "./memory-value-feed.js";
import { MemoryValueRepository } from "./memory-value-repository.js";

describe("MemoryValueRepository", () => {
  it("keeps each user's keys apart, even when usernames and keys could be joined alike", () => {
    const values = new MemoryValueRepository(new MemoryValueFeed());
    values.set("1", "2:k", "one's");
    values.set("1:2", "k", "other's");
    expect(values.get("1", "2:k")).toBe("one's");
    expect(values.get("1:2", "k")).toBe("other's");
    expect(values.get("2", "2:k")).toBeUndefined();
  });

  it("replaces a user's value under the same key and leaves other keys alone", () => {
    const values = new MemoryValueRepository(new MemoryValueFeed());
    values.set("7", "a", "first");
    values.set("7", "b", "kept");
    values.set("7", "a", "second");
    expect(values.get("7", "a")).toBe("second");
    expect(values.get("7", "b")).toBe("kept");
  });
});
