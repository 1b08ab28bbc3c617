const UNIT_US: Record<string, number> = { ns: 1e-3, us: 1, "µs": 1, "μs": 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/**
 * Parses a duration as Go's `time.Duration` prints it (`433.66µs`,
 * `45.295218ms`, `4.345747431s`, `1m2.5s`, `0s`), as etclient's report
 * writes them (SPEC §7), into microseconds. Throws on anything else.
 */
export function parseGoDurationUs(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "0" || trimmed === "0s") return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    total += Number(match[1]) * UNIT_US[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) throw new Error(`not a Go duration: ${JSON.stringify(text)}`);
  return total;
}
