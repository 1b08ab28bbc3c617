import { describe, expect, it } from "vitest";
import { MessageQueue, type MessageQueueOwner } from "./message-queue.js";

function owner(): MessageQueueOwner & { consumedBytes: number[]; abandonedCount: number } {
  return {
    consumedBytes: [],
    abandonedCount: 0,
    consumed(bytes) {
      this.consumedBytes.push(bytes);
    },
    abandoned() {
      this.abandonedCount++;
    },
  };
}

describe("MessageQueue", () => {
  it("hands out messages in order, counting each read's bytes, then ends", async () => {
    const o = owner();
    const q = new MessageQueue<number>(o);
    q.push(1, 10);
    q.push(2, 20);
    const pending = q.next();
    expect(await pending).toEqual({ done: false, value: 1 });
    q.end();
    expect(await q.next()).toEqual({ done: false, value: 2 });
    expect(await q.next()).toEqual({ done: true, value: undefined });
    expect(o.consumedBytes).toEqual([10, 20]);
  });

  it("resolves a waiting reader with the next message that arrives", async () => {
    const o = owner();
    const q = new MessageQueue<string>(o);
    const waiting = q.next();
    expect(q.push("a", 5)).toBe(true);
    expect(await waiting).toEqual({ done: false, value: "a" });
    expect(o.consumedBytes).toEqual([5]);
  });

  it("delivers what is queued before an error, and drops it when the stream was canceled", async () => {
    const q = new MessageQueue<number>(owner());
    q.push(1, 1);
    q.fail(new Error("boom"));
    expect(await q.next()).toEqual({ done: false, value: 1 });
    await expect(q.next()).rejects.toThrow("boom");
    const canceled = new MessageQueue<number>(owner());
    canceled.push(1, 1);
    canceled.fail(new Error("canceled"), true);
    await expect(canceled.next()).rejects.toThrow("canceled");
  });

  it("settles a pending next() with done on return(), tells its owner once, and refuses later pushes", async () => {
    const o = owner();
    const q = new MessageQueue<number>(o);
    const pending = q.next();
    await expect(q.return()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await q.return();
    expect(o.abandonedCount).toBe(1);
    expect(q.push(1, 1)).toBe(false);
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it("serves readers that call next() again before the last one settled, in order", async () => {
    const q = new MessageQueue<number>(owner());
    const a = q.next();
    const b = q.next();
    const c = q.next();
    q.push(1, 1);
    q.push(2, 1);
    q.end();
    expect(await Promise.all([a, b, c])).toEqual([{ done: false, value: 1 }, { done: false, value: 2 }, { done: true, value: undefined }]);
  });

  it("does not report a reader that returns after the end as abandoning the stream", async () => {
    const o = owner();
    const q = new MessageQueue<number>(o);
    q.end();
    await q.return();
    expect(o.abandonedCount).toBe(0);
  });

  it("keeps its storage compact while a long stream is read", async () => {
    const q = new MessageQueue<number>(owner());
    for (let i = 0; i < 5000; i++) q.push(i, 1);
    for (let i = 0; i < 5000; i++) expect((await q.next()).value).toBe(i);
    expect(q.length).toBe(0);
  });
});
