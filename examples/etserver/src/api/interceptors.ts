import { Code, DoraError, type HandlerContext, type Logger, type ServerInterceptor } from "@dora/runtime";
import { KvServiceMethodNames } from "@dora/tiger/kv/v1";
import type { AuthenticateUseCase } from "../app/authenticate.js";
import type { RateLimitUseCase } from "../app/rate-limit.js";
import type { RequestKind } from "../domain/ratelimiter.js";
import { scopeOf } from "./call-scope.js";
import { toDoraError } from "./errors.js";

/** Methods that need no session: Login only. Every other method is authenticated and limited. */
const PUBLIC_METHODS: ReadonlySet<string> = new Set([KvServiceMethodNames.login]);

/** The bucket each limited method spends from. */
const METHOD_KINDS: ReadonlyMap<string, RequestKind> = new Map<string, RequestKind>([
  [KvServiceMethodNames.readSecureMessage, "read"],
  [KvServiceMethodNames.writeSecureMessage, "write"],
]);

/** The authenticated username of a call that passed {@link authInterceptor}. */
export function callerOf(context: HandlerContext): string {
  const username = context.requestMeta["username"];
  if (username === undefined) throw new DoraError(Code.Internal, "no authenticated caller");
  return username;
}

/**
 * `auth` (SPEC §6): every method but Login needs meta `username` and `token`.
 * A missing key → BadRequest; an empty token, no session, an expired one or a
 * wrong one → Unauthenticated. Runs before `limit`, so a request that fails
 * here spends no rate-limit tokens.
 */
export function authInterceptor(authenticate: AuthenticateUseCase, logger: Logger): ServerInterceptor {
  return (next) => async (request, context) => {
    if (PUBLIC_METHODS.has(context.method)) return next(request, context);
    const username = context.requestMeta["username"];
    const token = context.requestMeta["token"];
    if (username === undefined) throw new DoraError(Code.BadRequest, "missing metadata: username");
    if (token === undefined) throw new DoraError(Code.BadRequest, "missing metadata: token");
    try {
      await authenticate.execute(username, token, scopeOf(context));
    } catch (error) {
      throw toDoraError(error, logger, context.method);
    }
    return next(request, context);
  };
}

/**
 * `limit` (SPEC §6): after `auth`, spends one token of the caller's read or
 * write bucket; an empty bucket → Unavailable "rate limit".
 */
export function limitInterceptor(rateLimit: RateLimitUseCase, logger: Logger): ServerInterceptor {
  return (next) => async (request, context) => {
    const kind = METHOD_KINDS.get(context.method);
    if (kind === undefined) return next(request, context);
    try {
      await rateLimit.execute(callerOf(context), kind, scopeOf(context));
    } catch (error) {
      throw toDoraError(error, logger, context.method);
    }
    return next(request, context);
  };
}
