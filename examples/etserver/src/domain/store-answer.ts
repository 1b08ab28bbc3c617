/**
 * What a store answers: a value at once (the memory store, a cache hit) or a
 * promise of one (MySQL, Redis). Use cases await either; a value at once
 * costs no timer or race (see `storeCall`).
 */
export type StoreAnswer<T> = T | Promise<T>;
