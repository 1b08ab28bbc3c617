import { Code, DoraError } from "@dora/runtime";
import type { CallOptions } from "@dora/runtime";
import type { BusinessStatus, KvApi } from "../app/kv-api.js";

/** One call the fake saw: the rpc, its request and the metadata sent. */
export interface SeenCall {
  readonly rpc: "login" | "read" | "write" | "watch";
  readonly request: Record<string, string>;
  readonly meta: Record<string, string>;
}

/**
 * An in-memory stand-in for the kv service with etserver's rules: numeric
 * users log in with password = username, read/write need the user's current
 * token, keys are per user. Used to unit-test the use cases without a socket;
 * the integration tests run the real bin against a real etserver.
 */
export class FakeKvApi implements KvApi {
  readonly calls: SeenCall[] = [];
  private readonly tokens = new Map<string, string>();
  private readonly values = new Map<string, string>();
  private nextToken = 1;
  /** Open watches by `user/key`: each gets every value written there, or the end of its stream. */
  private readonly watchers = new Map<string, Set<(event: WatchEvent) => void>>();
  /** When set, every read and write rejects with this error. */
  failCallsWith: DoraError | undefined;

  async login(request: { username: string; password: string }): Promise<{ status?: BusinessStatus; token: string }> {
    this.calls.push({ rpc: "login", request: { ...request }, meta: {} });
    await Promise.resolve();
    if (!/^\d+$/.test(request.username) || request.password !== request.username) {
      return { status: { code: 1000, message: "incorrect username or password" }, token: "" };
    }
    const token = `token-${this.nextToken++}-0123456789abcdef`;
    this.tokens.set(request.username, token);
    return { token };
  }

  async writeSecureMessage(request: { key: string; value: string }, options?: CallOptions): Promise<{ key: string; value: string }> {
    const user = this.authenticate("write", request, options);
    this.values.set(`${user}/${request.key}`, request.value);
    for (const watcher of this.watchers.get(`${user}/${request.key}`) ?? []) watcher({ value: request.value });
    return { ...request };
  }

  async readSecureMessage(request: { key: string }, options?: CallOptions): Promise<{ status?: BusinessStatus; value: string }> {
    const user = this.authenticate("read", request, options);
    const value = this.values.get(`${user}/${request.key}`);
    return value === undefined ? { status: { code: 1001, message: "key does not exist" }, value: "" } : { value };
  }

  /**
   * Each value written to the caller's `key` after the watch opened. Like the
   * generated client, aborting `options.signal` fails the stream with
   * Canceled. The watch is registered as soon as the first message is asked for.
   */
  async *watchSecureMessage(request: { key: string }, options?: CallOptions): AsyncIterable<{ key: string; value: string }> {
    const id = `${this.authenticate("watch", request, options)}/${request.key}`;
    const events: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    const deliver = (event: WatchEvent) => {
      events.push(event);
      wake?.();
    };
    let watchers = this.watchers.get(id);
    if (watchers === undefined) this.watchers.set(id, (watchers = new Set()));
    watchers.add(deliver);
    const onAbort = () => deliver({ error: new DoraError(Code.Canceled, "call canceled") });
    options?.signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        const event = events.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (event.error !== undefined) throw event.error;
        if (event.value === undefined) return;
        yield { key: request.key, value: event.value };
      }
    } finally {
      watchers.delete(deliver);
      options?.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Watches open now. */
  get openWatches(): number {
    let open = 0;
    for (const watchers of this.watchers.values()) open += watchers.size;
    return open;
  }

  /** Ends every open watch: with `error`, or as a stream the server completed. */
  endWatches(error?: DoraError): void {
    for (const watchers of this.watchers.values()) for (const watcher of watchers) watcher(error === undefined ? {} : { error });
  }

  private authenticate(rpc: "read" | "write" | "watch", request: Record<string, string>, options: CallOptions | undefined): string {
    const meta = { ...(options?.meta ?? {}) };
    this.calls.push({ rpc, request: { ...request }, meta });
    if (this.failCallsWith !== undefined) throw this.failCallsWith;
    const user = meta["username"];
    if (user === undefined) throw new DoraError(Code.BadRequest, "missing username");
    const token = meta["token"] ?? "";
    if (token === "" || this.tokens.get(user) !== token) throw new DoraError(Code.Unauthenticated, "invalid or expired token");
    return user;
  }
}

/** What a fake watch is told: a value, an error, or (neither) the end of its stream. */
interface WatchEvent {
  readonly value?: string;
  readonly error?: DoraError;
}
