import { describe, expect, it } from "vitest";
import { InvalidRequestError, StoreUnavailableError } from "../domain/errors.js";
import { storeCall } from "./call-scope.js";

const never = () => new Promise<never>(() => undefined);

describe("storeCall", () => {
  it("gives StoreUnavailableError before the deadline when the store hangs", async () => {
    const deadline = Date.now() + 200;
    const error = await storeCall({ deadline, signal: new AbortController().signal }, "value store", never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(Date.now()).toBeLessThan(deadline);
  });

  it("wraps a store failure and keeps the cause", async () => {
    const cause = new Error("ECONNREFUSED 127.0.0.1:1");
    const error = (await storeCall({ deadline: undefined, signal: new AbortController().signal }, "session lookup", () => Promise.reject(cause)).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toBe("session lookup failed");
    expect(error.cause).toBe(cause);
  });

  it("passes domain errors and results through", async () => {
    const signal = new AbortController().signal;
    await expect(storeCall({ deadline: undefined, signal }, "x", () => Promise.reject(new InvalidRequestError("bad")))).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(storeCall({ deadline: Date.now() + 1000, signal }, "x", () => Promise.resolve(42))).resolves.toBe(42);
  });

  it("stops waiting when the call is abandoned", async () => {
    const controller = new AbortController();
    const pending = storeCall({ deadline: undefined, signal: controller.signal }, "x", never);
    controller.abort();
    await expect(pending).rejects.toThrow(/abandoned/);
  });
});
