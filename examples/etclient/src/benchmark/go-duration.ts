/**
 * Formats a duration the way Go's `time.Duration.String()` does, so the
 * benchmark report reads like the original dora v2 etclient's (SPEC §7):
 * `0s`, `999ns`, `1.5µs`, `433.66µs`, `45.295218ms`, `4.345747431s`,
 * `1m2.5s`, `1h0m0s`. The micro sign is U+00B5, as in Go.
 *
 * @param nanoseconds the duration in integer nanoseconds (a number is
 *   truncated toward zero; pass a bigint for durations beyond 2^53 ns).
 */
export function formatGoDuration(nanoseconds: number | bigint): string {
  let u = typeof nanoseconds === "bigint" ? nanoseconds : BigInt(Math.trunc(nanoseconds));
  const negative = u < 0n;
  if (negative) u = -u;
  let text: string;
  if (u < SECOND) {
    if (u === 0n) return "0s";
    if (u < MICROSECOND) text = `${u}ns`;
    else if (u < MILLISECOND) text = `${withFraction(u, 3)}µs`;
    else text = `${withFraction(u, 6)}ms`;
  } else {
    const seconds = withFraction(u % MINUTE, 9);
    const minutes = u / MINUTE;
    if (minutes === 0n) text = `${seconds}s`;
    else if (minutes < 60n) text = `${minutes}m${seconds}s`;
    else text = `${minutes / 60n}h${minutes % 60n}m${seconds}s`;
  }
  return negative ? `-${text}` : text;
}

const MICROSECOND = 1_000n;
const MILLISECOND = 1_000_000n;
const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;

/**
 * `value / 10^digits` in decimal with trailing zeros (and a bare point)
 * removed, like Go's fmtFrac + fmtInt.
 */
function withFraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const fraction = (value % scale).toString().padStart(digits, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}
