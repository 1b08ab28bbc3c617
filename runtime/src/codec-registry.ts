import { jsonCodec, protoCodec, type Codec } from "./codec.js";

/**
 * Codecs by wire name. Holds `proto` and `json`; more can be added. An empty
 * `serialize_type` means `proto` (SPEC §3.2). Internal module.
 */
export class CodecRegistry {
  private readonly byName = new Map<string, Codec>();

  constructor(codecs: readonly Codec[] = []) {
    this.add(protoCodec);
    this.add(jsonCodec);
    for (const codec of codecs) this.add(codec);
  }

  /** Adds or replaces the codec named `codec.name`. */
  add(codec: Codec): this {
    if (codec.name === "") throw new TypeError("codec name must not be empty");
    this.byName.set(codec.name, codec);
    return this;
  }

  /** The codec for a wire name; `""` gives `proto`; undefined when unknown. */
  get(name: string): Codec | undefined {
    return this.byName.get(name === "" ? "proto" : name);
  }
}
