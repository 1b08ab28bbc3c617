import { Code, DoraError, type Interceptor, type Logger } from "@dora/runtime";
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

/** The authenticated username of a call that passed {@link authInterceptor}, from its request metadata. */
export function callerOf(requestMeta: Readonly<Record<string, string>>): string {
  const username = requestMeta["username"];
  if (username === undefined) throw new DoraError(Code.Internal, "no authenticated caller");
  return username;
}

/**
 * `auth` (SPEC §6): every method but Login needs meta `username` and `token`.
 * A missing key → BadRequest; an empty token, no session, an expired one or a
 * wrong one → Unauthenticated. Runs before `limit`, so a request that fails
 * here spends no rate-limit tokens.
 */
export function authInterceptor(authenticate: AuthenticateUseCase, logger: Logger): Interceptor {
  return (next) => async (req) => {
    if (PUBLIC_METHODS.has(req.method)) return next(req);
    const username = req.meta["username"];
    const token = req.meta["token"];
    if (username === undefined) throw new DoraError(Code.BadRequest, "missing metadata: username");
    if (token === undefined) throw new DoraError(Code.BadRequest, "missing metadata: token");
    try {
      await authenticate.execute(username, token, scopeOf(req));
    } catch (error) {
      throw toDoraError(error, logger, req.method);
    }
    return next(req);
  };
}

/**
 * `limit` (SPEC §6): after `auth`, spends one token of the caller's read or
 * write bucket; an empty bucket → Unavailable "rate limit".
 */
export function limitInterceptor(rateLimit: RateLimitUseCase, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const kind = METHOD_KINDS.get(req.method);
    if (kind === undefined) return next(req);
    try {
      await rateLimit.execute(callerOf(req.meta), kind, scopeOf(req));
    } catch (error) {
      throw toDoraError(error, logger, req.method);
    }
    return next(req);
  };
}
