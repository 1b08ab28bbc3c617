import type { HandlerContext } from "@dora/runtime";
import {
  Code as Status,
  type KvService,
  type LoginRequest,
  type ReadSecureMessageRequest,
  type WatchSecureMessageRequest,
  type WriteSecureMessageRequest,
} from "@dora/tiger/kv/v1";
import type { ReadUseCase, WriteUseCase } from "../app/kv.js";
import type { WatchUseCase } from "../app/watch.js";
import type { LoginUseCase } from "../app/login.js";
import { actorOf, callerOf } from "./caller.js";
import { scopeOf } from "./call-scope.js";

/** Message of business status 1000. */
export const INCORRECT_CREDENTIALS_MESSAGE = "incorrect username or password";
/** Message of business status 1001. */
export const KEY_NOT_EXIST_MESSAGE = "key does not exist";

/**
 * The KvService implementation: turns requests into use-case calls and
 * outcomes into responses. Business outcomes (wrong credentials, missing
 * key) are statuses in the response body; failures are domain errors, which
 * the `errors` interceptor maps to dora errors. Read and write run after the
 * `auth` and `limit` interceptors and act for the call's authenticated caller.
 */
export class KvHandler implements KvService {
  constructor(
    private readonly loginUseCase: LoginUseCase,
    private readonly writeUseCase: WriteUseCase,
    private readonly readUseCase: ReadUseCase,
    private readonly watchUseCase: WatchUseCase,
  ) {}

  /** Login: status 1000 for a wrong username or password, else a fresh token. */
  async login(request: LoginRequest, context: HandlerContext) {
    const outcome = await this.loginUseCase.execute({ username: request.username, password: request.password, peerAddress: context.peer.address }, scopeOf(context));
    if (!outcome.ok) return { status: { code: Status.INCORRECT_USERNAME_OR_PASSWORD, message: INCORRECT_CREDENTIALS_MESSAGE }, token: "" };
    return { status: { code: Status.OK, message: "ok" }, token: outcome.token };
  }

  /** WriteSecureMessage: stores the value under the caller's key and echoes both. */
  async writeSecureMessage(request: WriteSecureMessageRequest, context: HandlerContext) {
    await this.writeUseCase.execute(actorOf(context.values), request.key, request.value, scopeOf(context));
    return { key: request.key, value: request.value };
  }

  /** ReadSecureMessage: the caller's value, or status 1001 when the key was never written. */
  async readSecureMessage(request: ReadSecureMessageRequest, context: HandlerContext) {
    const value = await this.readUseCase.execute(actorOf(context.values), request.key, scopeOf(context));
    if (value === undefined) return { status: { code: Status.KEY_NOT_EXIST, message: KEY_NOT_EXIST_MESSAGE }, value: "" };
    return { status: { code: Status.OK, message: "ok" }, value };
  }

  /**
   * WatchSecureMessage: `{key, value}` for each value written to the caller's
   * key after the watch opened, until the client cancels or the watch fails
   * (a bound, the store's feed lost, shutdown). The runtime pulls the next
   * value only once the client has credit for it, so a slow client leaves
   * values in the watch's bounded queue.
   */
  async *watchSecureMessage(request: WatchSecureMessageRequest, context: HandlerContext) {
    const watcher = { username: callerOf(context.values), connection: `${context.peer.address}:${context.peer.port}` };
    const watch = await this.watchUseCase.execute(watcher, request.key, scopeOf(context));
    try {
      for await (const value of watch) yield { key: request.key, value };
    } finally {
      watch.close();
    }
  }
}
