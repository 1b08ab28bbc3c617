/**
 * dora status codes (SPEC §3.4). The numbers are the wire values carried in the
 * `dora-status` response metadata. 0–10 are dora v2's own codes; 11–13 are dora
 * extensions in the framework range (≤ 20, 14–20 reserved); codes above 20 belong
 * to the application.
 */
export enum Code {
  Ok = 0,
  Unimplemented = 1,
  BadRequest = 2,
  NotFound = 3,
  PermissionDenied = 4,
  Internal = 5,
  Unauthenticated = 6,
  Unknown = 7,
  Unavailable = 8,
  InternalServerError = 9,
  OutOfRange = 10,
  DeadlineExceeded = 11,
  Canceled = 12,
  ResourceExhausted = 13,
}

/** The name of a code (`"Unauthenticated"`), or `"Code(42)"` for an application code. */
export function codeName(code: number): string {
  const name = (Code as unknown as Record<number, string | undefined>)[code];
  return name ?? `Code(${code})`;
}

/** Parses a code name as printed by {@link codeName} (case-insensitive); undefined when unknown. */
export function codeFromName(name: string): Code | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(Code)) {
    if (typeof value === "number" && key.toLowerCase() === lower) return value;
  }
  return undefined;
}
