import { describe, expect, it } from "vitest";
import { ReceiveWindow, SendWindow } from "./flow-window.js";

describe("SendWindow", () => {
  it("is open while its credit is positive, so one message may overdraw it", () => {
    const w = new SendWindow();
    expect(w.open).toBe(true);
    w.spend(65535);
    expect(w.open).toBe(true);
    w.spend(100_000);
    expect(w.open).toBe(false);
    expect(w.grant(100_000)).toBe(true);
    expect(w.open).toBe(true);
  });

  it("refuses an increment of 0, a negative one, and one that takes the credit above 2^31-1", () => {
    const w = new SendWindow();
    expect(w.grant(0)).toBe(false);
    expect(w.grant(-1)).toBe(false);
    expect(w.grant(0x7fffffff - 65536)).toBe(true);
    expect(w.grant(1)).toBe(false);
  });

  it("wakes a waiting sender when credit comes back, or when woken", async () => {
    const w = new SendWindow();
    w.spend(70_000);
    const waiting = w.wait();
    expect(w.grant(1000)).toBe(true);
    let woke = false;
    void waiting.then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    w.grant(10_000);
    await waiting;
    const again = w.wait();
    w.wake();
    await again;
  });
});

describe("ReceiveWindow", () => {
  it("accepts messages while the peer holds credit and reports a message sent without credit", () => {
    const r = new ReceiveWindow(65536);
    expect(r.receive(60_000)).toBe(true);
    expect(r.receive(60_000)).toBe(true);
    expect(r.receive(1)).toBe(false);
  });

  it("returns credit in batches of half its window, as messages are consumed", () => {
    const r = new ReceiveWindow(65536);
    r.receive(40_000);
    expect(r.consume(20_000)).toBe(0);
    expect(r.consume(20_000)).toBe(40_000);
    expect(r.receive(65_000)).toBe(true);
  });

  it("announces the difference of a larger window once, and grants it", () => {
    const r = new ReceiveWindow(256 * 1024);
    expect(r.announce()).toBe(256 * 1024 - 65536);
    expect(r.receive(200_000)).toBe(true);
    expect(r.receive(100_000)).toBe(true);
    expect(r.receive(1)).toBe(false);
    expect(new ReceiveWindow(65536).announce()).toBe(0);
  });
});
