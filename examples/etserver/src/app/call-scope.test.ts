import { afterEach, describe, expect, it, vi } from "vitest";
import { CallOutOfTimeError, InvalidRequestError, StoreUnavailableError } from "../domain/errors.js";
import { FAIR_STORE_BUDGET_MS, MAX_STORE_TIMEOUT_MS, storeCall } from "./call-scope.js";

const never = () => new Promise<never>(() => undefined);

/** A call scope with `deadline` that counts how often its signal is read (`signalReads`). */
function signalCountingScope(deadline: number): { deadline: number; readonly signal: AbortSignal; signalReads: number } {
  return {
    deadline,
    signalReads: 0,
    get signal(): AbortSignal {
      this.signalReads++;
      return new AbortController().signal;
    },
  };
}

describe("storeCall", () => {
  it("gives StoreUnavailableError before the deadline when the store hangs", async () => {
    vi.useFakeTimers({ now: 0 });
    let outcome: unknown = "pending";
    void Promise.resolve(storeCall({ deadline: 200, signal: new AbortController().signal }, "value store", never)).then(
      () => (outcome = "answered"),
      (e: unknown) => (outcome = e),
    );
    await vi.advanceTimersByTimeAsync(199);
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
  });

  it("tells a store the caller's 2 ms deadline cut short (CallOutOfTimeError) from one that had a fair budget and did not answer", async () => {
    vi.useFakeTimers({ now: 0 });
    const outcomes: unknown[] = [];
    for (const deadline of [2, 10 * FAIR_STORE_BUDGET_MS]) {
      void Promise.resolve(storeCall({ deadline, signal: new AbortController().signal }, "value store", never)).then(
        () => outcomes.push("answered"),
        (e: unknown) => outcomes.push(e),
      );
    }
    await vi.advanceTimersByTimeAsync(10 * FAIR_STORE_BUDGET_MS);
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toBeInstanceOf(CallOutOfTimeError);
    expect(outcomes[1]).toBeInstanceOf(StoreUnavailableError);
    expect(outcomes[1]).not.toBeInstanceOf(CallOutOfTimeError);
  });

  it("wraps a store failure and keeps the cause", async () => {
    const cause = new Error("ECONNREFUSED 127.0.0.1:1");
    const error = (await storeCall({ deadline: undefined, signal: new AbortController().signal }, "session lookup", () => Promise.reject(cause)).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toBe("session lookup failed");
    expect(error.cause).toBe(cause);
  });

  it("passes domain errors and results through", async () => {
    vi.useFakeTimers({ now: 0 });
    const signal = new AbortController().signal;
    await expect(storeCall({ deadline: undefined, signal }, "x", () => Promise.reject(new InvalidRequestError("bad")))).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(storeCall({ deadline: 1000, signal }, "x", () => Promise.resolve(42))).resolves.toBe(42);
  });

  it("stops waiting when the call is abandoned", async () => {
    const controller = new AbortController();
    const pending = storeCall({ deadline: undefined, signal: controller.signal }, "x", never);
    controller.abort();
    await expect(pending).rejects.toThrow(/abandoned/);
  });

  it("returns a store's immediate answer as it is, without reading the call's signal", () => {
    vi.useFakeTimers({ now: 0 });
    const scope = signalCountingScope(1000);
    expect(storeCall(scope, "value store", () => "value")).toBe("value");
    expect(storeCall(scope, "value store", () => undefined)).toBeUndefined();
    expect(scope.signalReads).toBe(0);
  });

  it("reads the call's signal for a store that has to be waited for, and stops waiting when it aborts", async () => {
    let signalReads = 0;
    const controller = new AbortController();
    const scope = {
      deadline: undefined,
      get signal(): AbortSignal {
        signalReads++;
        return controller.signal;
      },
    };
    const pending = storeCall(scope, "x", never);
    expect(signalReads).toBeGreaterThan(0);
    controller.abort();
    await expect(pending).rejects.toThrow(/abandoned/);
  });

  it("waits for a store that bounds its own answer time within the budget with no timer and without reading the call's signal, and wraps its failure", async () => {
    vi.useFakeTimers({ now: 0 });
    const scope = signalCountingScope(5000);
    let settle: (v: number) => void = () => {};
    const answered = storeCall(scope, "value store", () => new Promise<number>((r) => (settle = r)), 1000);
    expect(vi.getTimerCount()).toBe(0);
    settle(3);
    await expect(answered).resolves.toBe(3);
    const cause = new Error("Command timed out");
    const failed = (await Promise.resolve(storeCall(scope, "value store", () => Promise.reject(cause), 1000)).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect(failed.cause).toBe(cause);
    expect(scope.signalReads).toBe(0);
  });

  it("still races a store whose own bound is longer than the budget: Unavailable before the deadline", async () => {
    vi.useFakeTimers({ now: 0 });
    let outcome: unknown = "pending";
    void Promise.resolve(storeCall({ deadline: 200, signal: new AbortController().signal }, "value store", never, 1000)).then(
      () => (outcome = "answered"),
      (e: unknown) => (outcome = e),
    );
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(199);
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
  });

  it("wraps a store that throws at once like one that rejects", async () => {
    const cause = new Error("boom");
    const error = (await Promise.resolve(
      storeCall({ deadline: undefined, signal: new AbortController().signal }, "session lookup", () => {
        throw cause;
      }),
    ).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.cause).toBe(cause);
  });

  it("refuses a store call with no time left before the deadline, without calling the store", async () => {
    let called = false;
    const answer = storeCall({ deadline: Date.now() - 1, signal: new AbortController().signal }, "value store", () => {
      called = true;
      return 1;
    });
    await expect(answer).rejects.toThrow(/no time left/);
    await expect(answer).rejects.toBeInstanceOf(CallOutOfTimeError);
    expect(called).toBe(false);
  });

  it("waits for a store with a deadline 30 days away as long as a timer can (2^31−1 ms), not 1 ms: the call is not answered Unavailable at once", async () => {
    vi.useFakeTimers({ now: 0 });
    let settle: (v: number) => void = () => {};
    const answer = storeCall({ deadline: 30 * 24 * 3600 * 1000, signal: new AbortController().signal }, "value store", () => new Promise<number>((r) => (settle = r)));
    let outcome: unknown = "pending";
    void Promise.resolve(answer).then((v) => (outcome = v), (e: unknown) => (outcome = e));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(outcome).toBe("pending");
    settle(7);
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toBe(7);
    expect(MAX_STORE_TIMEOUT_MS).toBe(2 ** 31 - 1);
  });
});

afterEach(() => vi.useRealTimers());
