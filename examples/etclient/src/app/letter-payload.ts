import type { KvApi } from "./kv-api.js";

/** Bytes of a key and of a value on the wire when `--size` is not given: what the original etclient sends (SPEC §7). */
export const DEFAULT_PAYLOAD_SIZE = 2000;

/**
 * The wire form of etclient's key and value (SPEC §7): the letter the user
 * gives, repeated `size` times, as the original etclient's
 * `helper.NewString` builds them, so data written by either client is
 * visible to the other and the benchmark measures the original's workload.
 * What the user sees (output lines, the benchmark report) stays the letter.
 *
 * This adapter wraps the kv client: requests get the repeated form, and a
 * read value that is one character repeated comes back as that character
 * (any other value is passed through unchanged). The repeated strings are
 * built once per letter, so the benchmark's hot path allocates nothing more.
 */
export class LetterPayloadApi implements KvApi {
  private readonly wire = new Map<string, string>();

  /**
   * @param api the generated kv client (or anything with its shape).
   * @param size bytes of every key and value on the wire, ≥ 1 (letters are ASCII: one byte each).
   */
  constructor(
    private readonly api: KvApi,
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be an integer >= 1, got ${size}`);
  }

  login(...args: Parameters<KvApi["login"]>): ReturnType<KvApi["login"]> {
    return this.api.login(...args);
  }

  async writeSecureMessage(request: { key: string; value: string }, options?: Parameters<KvApi["writeSecureMessage"]>[1]): ReturnType<KvApi["writeSecureMessage"]> {
    const response = await this.api.writeSecureMessage({ key: this.expand(request.key), value: this.expand(request.value) }, options);
    return { key: this.collapse(response.key), value: this.collapse(response.value) };
  }

  async readSecureMessage(request: { key: string }, options?: Parameters<KvApi["readSecureMessage"]>[1]): ReturnType<KvApi["readSecureMessage"]> {
    const response = await this.api.readSecureMessage({ key: this.expand(request.key) }, options);
    const value = this.collapse(response.value);
    return value === response.value ? response : { ...response, value };
  }

  async *watchSecureMessage(request: { key: string }, options?: Parameters<KvApi["watchSecureMessage"]>[1]): AsyncIterable<{ key: string; value: string }> {
    for await (const message of this.api.watchSecureMessage({ key: this.expand(request.key) }, options)) {
      yield { key: this.collapse(message.key), value: this.collapse(message.value) };
    }
  }

  /** `letter` repeated `size` times (cached per letter). */
  expand(letter: string): string {
    let wire = this.wire.get(letter);
    if (wire === undefined) {
      wire = letter.repeat(this.size);
      this.wire.set(letter, wire);
    }
    return wire;
  }

  /** The character a value repeats (`"mmm…m"` → `"m"`); any other value unchanged. */
  collapse(value: string): string {
    if (value.length <= 1) return value;
    const first = value[0] ?? "";
    if (value.length === this.size && this.wire.get(first) === value) return first;
    for (let i = 1; i < value.length; i++) if (value[i] !== first) return value;
    return first;
  }
}
