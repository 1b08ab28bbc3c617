/**
 * Per-call values with typed keys: how an interceptor hands something it
 * learned (the authenticated caller, a trace id) to the handler or to the
 * interceptors after it, without a side channel.
 *
 * ```ts
 * const kCaller = createContextKey<string | undefined>(undefined, { description: "caller" });
 * const auth: Interceptor = (next) => async (req) => {
 *   req.values.set(kCaller, await verify(req.meta["token"]));
 *   return next(req);
 * };
 * // in the handler:
 * const caller = context.values.get(kCaller);
 * ```
 */

/** Identifies one context value and gives its type and default. Create with {@link createContextKey}. */
export interface ContextKey<T> {
  /** Unique id of the key. */
  readonly id: symbol;
  /** What {@link ContextValues.get} returns while no value is set. */
  readonly defaultValue: T;
}

/** Creates a key. Two keys are distinct even with the same description. */
export function createContextKey<T>(defaultValue: T, options?: { description?: string }): ContextKey<T> {
  return { id: Symbol(options?.description), defaultValue };
}

/** The values of one call, by key. */
export interface ContextValues {
  /** The value set for `key`, or the key's default. */
  get<T>(key: ContextKey<T>): T;
  /** Sets the value of `key`; returns this collection for chaining. */
  set<T>(key: ContextKey<T>, value: T): this;
  /** True when a value is set for `key`. */
  has(key: ContextKey<unknown>): boolean;
  /** Removes the value of `key`; returns this collection for chaining. */
  delete(key: ContextKey<unknown>): this;
}

class Values implements ContextValues {
  /** Created on the first `set`: a call whose values are never set costs one small object. */
  private map: Map<symbol, unknown> | undefined;

  get<T>(key: ContextKey<T>): T {
    const map = this.map;
    return map !== undefined && map.has(key.id) ? (map.get(key.id) as T) : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    (this.map ??= new Map()).set(key.id, value);
    return this;
  }

  has(key: ContextKey<unknown>): boolean {
    return this.map?.has(key.id) === true;
  }

  delete(key: ContextKey<unknown>): this {
    this.map?.delete(key.id);
    return this;
  }
}

/** Creates an empty collection of context values, e.g. to pass in `CallOptions.values`. */
export function createContextValues(): ContextValues {
  return new Values();
}
