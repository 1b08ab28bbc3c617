/**
 * Remembers the store names of recently used (username, key) pairs, so that a
 * key used again is not hashed again: the SHA-256 of a 2000-byte owned key
 * costs about 5 µs, the largest single item of a write in etserver's profile.
 *
 * A direct-mapped table: each pair has one slot, chosen from the username and
 * the key's characters (all of a key up to {@link FULLY_SAMPLED_LENGTH}, a
 * sample of a longer one), and a hit needs both strings equal in full. lru-cache (a Map) was
 * measured and not used: a Map hashes every character of a fresh key string,
 * 3.4 µs for 2000 characters, most of what the memo is meant to save; a slot
 * costs the sample and one comparison. Two pairs that share a slot take it in
 * turn and are named by the function each time, so a peer that makes its keys
 * collide only costs itself (and evicts nothing but slots' current holders).
 * Memory: at most `slots` pairs, each holding its key (up to 4096 bytes).
 */
export class KeyNameMemo {
  private readonly usernames: (string | undefined)[];
  private readonly keys: (string | undefined)[];
  private readonly names: string[];
  private readonly mask: number;

  /**
   * @param name the function whose answers are remembered; called on every miss.
   * @param slots table size, a power of two (default 1024).
   */
  constructor(
    private readonly name: (username: string, key: string) => string,
    slots = 1024,
  ) {
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, got ${slots}`);
    this.usernames = new Array<string | undefined>(slots).fill(undefined);
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.names = new Array<string>(slots).fill("");
    this.mask = slots - 1;
  }

  /** `name(username, key)`, from the table when the pair holds its slot. */
  nameOf(username: string, key: string): string {
    const slot = slotOf(username, key) & this.mask;
    if (this.keys[slot] === key && this.usernames[slot] === username) return this.names[slot]!;
    const name = this.name(username, key);
    this.usernames[slot] = username;
    this.keys[slot] = key;
    this.names[slot] = name;
    return name;
  }

  /** Pairs held now (for tests of the bound). */
  get size(): number {
    return this.keys.reduce((n, key) => (key === undefined ? n : n + 1), 0);
  }
}

/** A key up to this long chooses its slot with all its characters; a longer one with its first and last {@link EDGE_CHARACTERS} and {@link SPREAD_CHARACTERS} between. */
export const FULLY_SAMPLED_LENGTH = 96;
const EDGE_CHARACTERS = 32;
const SPREAD_CHARACTERS = 16;

/** A 32-bit mix of the username, the key's length and its sampled characters (see {@link FULLY_SAMPLED_LENGTH}). */
function slotOf(username: string, key: string): number {
  let h = Math.imul(key.length ^ 0x5bd1e995, 0x9e3779b1);
  for (let i = 0; i < username.length && i < EDGE_CHARACTERS; i++) h = Math.imul(h ^ username.charCodeAt(i), 0x01000193);
  const n = key.length;
  if (n <= FULLY_SAMPLED_LENGTH) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < EDGE_CHARACTERS; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    for (let i = n - EDGE_CHARACTERS; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    const step = (n - 2 * EDGE_CHARACTERS) / (SPREAD_CHARACTERS + 1);
    for (let i = 1; i <= SPREAD_CHARACTERS; i++) h = Math.imul(h ^ key.charCodeAt(EDGE_CHARACTERS + Math.floor(i * step)), 0x01000193);
  }
  // murmur3's finaliser, so that every sampled bit reaches the low bits that pick the slot.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
