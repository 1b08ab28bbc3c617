import { describe, expect, it } from "vitest";
import { createContextKey, createContextValues } from "./context-values.js";

describe("context values", () => {
  it("returns a key's default until a value is set, then the value; delete restores the default", () => {
    const kUser = createContextKey<string | undefined>(undefined, { description: "user" });
    const kCount = createContextKey(0);
    const values = createContextValues();
    expect(values.get(kUser)).toBeUndefined();
    expect(values.get(kCount)).toBe(0);
    expect(values.has(kCount)).toBe(false);
    values.set(kUser, "ann").set(kCount, 2);
    expect(values.get(kUser)).toBe("ann");
    expect(values.get(kCount)).toBe(2);
    expect(values.has(kCount)).toBe(true);
    values.delete(kCount);
    expect(values.get(kCount)).toBe(0);
  });

  it("tells apart two keys with the same description, and an undefined value from no value", () => {
    const a = createContextKey("a", { description: "same" });
    const b = createContextKey("b", { description: "same" });
    const values = createContextValues().set(a, "set");
    expect(values.get(b)).toBe("b");
    const maybe = createContextKey<string | undefined>("default");
    values.set(maybe, undefined);
    expect(values.has(maybe)).toBe(true);
    expect(values.get(maybe)).toBeUndefined();
  });
});
