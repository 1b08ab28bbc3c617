import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient } from "./client.js";
import { DeadlineWheel, type Expirable } from "./deadline-wheel.js";
import { DEFAULTS, intOption, MAX_TIMEOUT_MS, parseAddress, transportOptions } from "./options.js";
import { createServer } from "./server.js";

describe("options", () => {
  it("has the defaults of SPEC §4", () => {
    expect(DEFAULTS).toMatchObject({
      keepaliveTimeMs: 5000,
      keepaliveTimeoutMs: 20000,
      frameTimeoutMs: 20000,
      handshakeTimeoutMs: 10000,
      maxConnections: 10000,
      maxConnectionsPerAddress: 1000,
      maxFrameBytes: 4 * 1024 * 1024,
      maxConcurrentCalls: 1000,
      poolSize: 10,
      timeoutMs: 5000,
      probeTimeoutMs: 1000,
    });
    expect(transportOptions({})).toEqual({ keepaliveTimeMs: 5000, keepaliveTimeoutMs: 20000, frameTimeoutMs: 20000, maxFrameBytes: 4 * 1024 * 1024 });
  });

  it("names the option in every validation error", () => {
    expect(() => intOption("poolSize", 1.5, 10, 1)).toThrow("option poolSize must be an integer, got 1.5");
    expect(() => intOption("poolSize", 0, 10, 1, 100)).toThrow("option poolSize must be between 1 and 100, got 0");
    expect(() => intOption("poolSize", "3" as never, 10, 1)).toThrow(/option poolSize must be an integer/);
    expect(() => transportOptions({ maxFrameBytes: 2 ** 32 })).toThrow(/option maxFrameBytes/);
    expect(() => createServer({ maxConcurrentCalls: 0 })).toThrow(/option maxConcurrentCalls/);
    expect(() => createServer({ keepaliveTimeMs: -1 })).toThrow(/option keepaliveTimeMs/);
    expect(() => createServer({ frameTimeoutMs: 2 ** 31 })).toThrow("option frameTimeoutMs must be between 1 and 2147483647, got 2147483648");
    expect(() => createServer({ handshakeTimeoutMs: 0 })).toThrow(/option handshakeTimeoutMs/);
    expect(() => createServer({ maxConnections: 0 })).toThrow(/option maxConnections/);
    expect(() => createServer({ maxConnectionsPerAddress: 1.5 })).toThrow(/option maxConnectionsPerAddress/);
    expect(() => createClient({ address: "127.0.0.1:1", timeoutMs: 0 })).toThrow(/option timeoutMs/);
    expect(() => createClient({ address: "127.0.0.1:1", poolSize: 0 })).toThrow(/option poolSize/);
    expect(() => createClient({ address: "127.0.0.1:1", probeTimeoutMs: 0 })).toThrow(/option probeTimeoutMs/);
    expect(() => createClient({ address: "127.0.0.1:1", timeoutMs: 2 ** 31 })).toThrow("option timeoutMs must be between 1 and 2147483647, got 2147483648");
    expect(() => createClient({ address: [] })).toThrow(/option address/);
    expect(() => createClient({ address: "localhost" })).toThrow('option address: expected HOST:PORT, got "localhost"');
    expect(() => createClient({ address: "127.0.0.1:1", serializeType: "xml" })).toThrow('option serializeType: unknown codec "xml"');
  });

  it("parses HOST:PORT, [IPv6]:PORT and :PORT", () => {
    expect(parseAddress("address", "example.com:8443")).toEqual({ host: "example.com", port: 8443 });
    expect(parseAddress("address", "[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(parseAddress("address", ":7")).toEqual({ host: "127.0.0.1", port: 7 });
    expect(() => parseAddress("address", "h:70000")).toThrow(/option address/);
    expect(() => parseAddress("address", "::1:80")).toThrow(/option address/);
  });
});

describe("DeadlineWheel", () => {
  afterEach(() => vi.useRealTimers());

  function item(log: string[], name: string): Expirable {
    return { deadlineSlot: undefined, expire: () => log.push(name) };
  }

  it("expires items in deadline order, each once, and not before its deadline", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const wheel = new DeadlineWheel(2);
    const log: string[] = [];
    wheel.add(item(log, "c"), 1_000_300);
    wheel.add(item(log, "a"), 1_000_100);
    wheel.add(item(log, "b"), 1_000_200);
    vi.advanceTimersByTime(99);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(log).toEqual(["a"]);
    vi.advanceTimersByTime(300);
    expect(log).toEqual(["a", "b", "c"]);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(["a", "b", "c"]);
    wheel.stop();
  });

  it("does not expire a removed item and keeps the others of its slot", () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel(10);
    const log: string[] = [];
    const gone = item(log, "gone");
    wheel.add(gone, 50);
    wheel.add(item(log, "kept"), 51);
    wheel.remove(gone);
    wheel.remove(gone);
    expect(gone.deadlineSlot).toBeUndefined();
    vi.advanceTimersByTime(100);
    expect(log).toEqual(["kept"]);
  });

  it("uses one timer however many items are scheduled, re-armed for an earlier deadline", () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel(1);
    const log: string[] = [];
    for (let i = 0; i < 1000; i++) wheel.add(item(log, `late${i}`), 5000 + i);
    expect(vi.getTimerCount()).toBe(1);
    wheel.add(item(log, "early"), 10);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(11);
    expect(log).toEqual(["early"]);
    vi.advanceTimersByTime(6000);
    expect(log).toHaveLength(1001);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never expires anything after stop", () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel();
    const log: string[] = [];
    wheel.add(item(log, "x"), 10);
    wheel.stop();
    vi.advanceTimersByTime(100);
    expect(log).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("holds memory for the items scheduled, not for every deadline ever scheduled: 300,000 distinct deadlines added and removed leave no slot and a small heap", () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel(1);
    const log: string[] = [];
    const kept = item(log, "kept");
    wheel.add(kept, 10_000_000);
    for (let i = 0; i < 300_000; i++) {
      const call = item(log, `call${i}`);
      wheel.add(call, 1_000_000 + i * 7);
      wheel.remove(call);
    }
    expect(wheel.slotCount).toBe(1);
    expect(wheel.heapSize).toBeLessThanOrEqual(2 * 1 + 64 + 1);
    vi.advanceTimersByTime(10_000_001);
    expect(log).toEqual(["kept"]);
    expect(wheel.slotCount).toBe(0);
  });

  it("waits for a deadline beyond 2^31−1 ms with timers of at most MAX_TIMEOUT_MS (a longer Node timer would fire after 1 ms, for ever)", () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel(1);
    const log: string[] = [];
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return real(fn, ms);
    }) as typeof setTimeout);
    wheel.add(item(log, "far"), 999_999_999_999);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS);
    spy.mockRestore();
    expect(log).toEqual([]);
    expect(delays).toEqual([MAX_TIMEOUT_MS, MAX_TIMEOUT_MS]);
    wheel.stop();
  });
});
