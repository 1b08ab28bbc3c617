/**
 * One timer for many deadlines. Internal module.
 *
 * Calls are put in slots of `resolutionMs`; a min-heap of slot keys arms a
 * single `unref()`-ed timer for the earliest slot. Finishing a call removes it
 * from its slot in O(1), so a busy client or server never creates a timer per
 * call. A deadline fires at most `resolutionMs` late.
 *
 * Memory follows the items scheduled, not the items ever scheduled or their
 * deadlines (SPEC §4): a slot left empty is dropped at once, and the heap is
 * rebuilt from the live slots when it holds more than twice their number.
 * The timer never waits longer than {@link MAX_TIMEOUT_MS} (a longer Node
 * timer would fire after 1 ms); a later deadline re-arms it when it fires.
 */
import { MAX_TIMEOUT_MS } from "./options.js";

/** Something with a deadline. The wheel owns `deadlineSlot`. */
export interface Expirable {
  deadlineSlot: Set<Expirable> | undefined;
  /** Called once when the deadline has passed and the item was not removed. */
  expire(): void;
}

/** The items due in one `resolutionMs` window; it knows its key so an emptied slot can be dropped. */
class Slot extends Set<Expirable> {
  constructor(readonly key: number) {
    super();
  }
}

/** Heap entries kept beyond twice the live slots before the heap is rebuilt. */
const HEAP_SLACK = 64;

export class DeadlineWheel {
  private readonly slots = new Map<number, Slot>();
  private readonly heap: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerKey = Infinity;

  constructor(private readonly resolutionMs = 2) {}

  /** Schedules `item.expire()` at `deadline` (epoch ms). */
  add(item: Expirable, deadline: number): void {
    const key = Math.ceil(deadline / this.resolutionMs);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new Slot(key);
      this.slots.set(key, slot);
      this.push(key);
      if (key < this.timerKey) this.arm(key);
    }
    slot.add(item);
    item.deadlineSlot = slot;
  }

  /** Cancels a scheduled expiry; a no-op when the item is not scheduled. */
  remove(item: Expirable): void {
    const slot = item.deadlineSlot;
    if (slot !== undefined) {
      slot.delete(item);
      item.deadlineSlot = undefined;
      if (slot.size === 0) this.drop(slot as Slot);
    }
  }

  /** Slots holding at least one item; for tests of the memory bound. */
  get slotCount(): number {
    return this.slots.size;
  }

  /** Heap entries; for tests of the memory bound. */
  get heapSize(): number {
    return this.heap.length;
  }

  private drop(slot: Slot): void {
    if (this.slots.get(slot.key) !== slot) return;
    this.slots.delete(slot.key);
    if (this.heap.length > 2 * this.slots.size + HEAP_SLACK) this.rebuildHeap();
  }

  /** Rebuilds the heap from the live slots (dropped slots leave their keys behind). */
  private rebuildHeap(): void {
    const h = this.heap;
    h.length = 0;
    for (const key of this.slots.keys()) h.push(key);
    h.sort((a, b) => a - b);
  }

  /** Stops the timer. Items still scheduled never expire. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerKey = Infinity;
    this.slots.clear();
    this.heap.length = 0;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerKey = Infinity;
    const nowKey = Date.now() / this.resolutionMs;
    while (this.heap.length > 0 && this.heap[0]! <= nowKey) {
      const key = this.pop();
      const slot = this.slots.get(key);
      this.slots.delete(key);
      if (slot === undefined) continue;
      for (const item of slot) {
        item.deadlineSlot = undefined;
        item.expire();
      }
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!);
  };

  private arm(key: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerKey = key;
    this.timer = setTimeout(this.fire, Math.min(MAX_TIMEOUT_MS, Math.max(0, key * this.resolutionMs - Date.now())));
    this.timer.unref();
  }

  private push(key: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= key) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = key;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r]! < h[l]! ? r : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
