/** Parses `text` as an integer ≥ 1, else throws an error naming `name`. */
export function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1 (got ${JSON.stringify(text)})`);
  return value;
}

/** Parses `text` as a number ≥ 0, else throws an error naming `name`. */
export function nonNegative(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0 (got ${JSON.stringify(text)})`);
  return value;
}
