import { Code, DoraError } from "@dora/runtime";
import type { CallOptions } from "@dora/runtime";
import type { BusinessStatus, KvApi } from "../app/kv-api.js";

/** One call the fake saw: the rpc, its request and the metadata sent. */
export interface SeenCall {
  readonly rpc: "login" | "read" | "write";
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
    return { ...request };
  }

  async readSecureMessage(request: { key: string }, options?: CallOptions): Promise<{ status?: BusinessStatus; value: string }> {
    const user = this.authenticate("read", request, options);
    const value = this.values.get(`${user}/${request.key}`);
    return value === undefined ? { status: { code: 1001, message: "key does not exist" }, value: "" } : { value };
  }

  private authenticate(rpc: "read" | "write", request: Record<string, string>, options: CallOptions | undefined): string {
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
