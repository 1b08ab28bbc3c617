import type { HandlerContext, Logger } from "@dora/runtime";
import {
  Code as Status,
  KvServiceMethodNames,
  type KvService,
  type LoginRequest,
  type ReadSecureMessageRequest,
  type WriteSecureMessageRequest,
} from "@dora/tiger/kv/v1";
import type { ReadUseCase, WriteUseCase } from "../app/kv.js";
import type { LoginUseCase } from "../app/login.js";
import { scopeOf } from "./call-scope.js";
import { toDoraError } from "./errors.js";
import { callerOf } from "./interceptors.js";

/** Message of business status 1000. */
export const INCORRECT_CREDENTIALS_MESSAGE = "incorrect username or password";
/** Message of business status 1001. */
export const KEY_NOT_EXIST_MESSAGE = "key does not exist";

/**
 * The KvService implementation: turns requests into use-case calls and
 * outcomes into responses. Business outcomes (wrong credentials, missing
 * key) are statuses in the response body; failures are dora errors.
 * Read and write run after the `auth` and `limit` interceptors.
 */
export class KvHandler implements KvService {
  constructor(
    private readonly loginUseCase: LoginUseCase,
    private readonly writeUseCase: WriteUseCase,
    private readonly readUseCase: ReadUseCase,
    private readonly logger: Logger,
  ) {}

  /** Login: status 1000 for a wrong username or password, else a fresh token. */
  async login(request: LoginRequest, context: HandlerContext) {
    try {
      const outcome = await this.loginUseCase.execute({ username: request.username, password: request.password, peerAddress: context.peer.address }, scopeOf(context));
      if (!outcome.ok) return { status: { code: Status.INCORRECT_USERNAME_OR_PASSWORD, message: INCORRECT_CREDENTIALS_MESSAGE }, token: "" };
      return { status: { code: Status.OK, message: "ok" }, token: outcome.token };
    } catch (error) {
      throw toDoraError(error, this.logger, KvServiceMethodNames.login);
    }
  }

  /** WriteSecureMessage: stores the value under the caller's key and echoes both. */
  async writeSecureMessage(request: WriteSecureMessageRequest, context: HandlerContext) {
    try {
      await this.writeUseCase.execute(callerOf(context.requestMeta), request.key, request.value, scopeOf(context));
      return { key: request.key, value: request.value };
    } catch (error) {
      throw toDoraError(error, this.logger, KvServiceMethodNames.writeSecureMessage);
    }
  }

  /** ReadSecureMessage: the caller's value, or status 1001 when the key was never written. */
  async readSecureMessage(request: ReadSecureMessageRequest, context: HandlerContext) {
    try {
      const value = await this.readUseCase.execute(callerOf(context.requestMeta), request.key, scopeOf(context));
      if (value === undefined) return { status: { code: Status.KEY_NOT_EXIST, message: KEY_NOT_EXIST_MESSAGE }, value: "" };
      return { status: { code: Status.OK, message: "ok" }, value };
    } catch (error) {
      throw toDoraError(error, this.logger, KvServiceMethodNames.readSecureMessage);
    }
  }
}
