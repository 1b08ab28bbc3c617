import type { Interceptor, Logger } from "@dora/runtime";
import { KvServiceMethodNames } from "@dora/tiger/kv/v1";
import type { AuthenticateUseCase } from "../app/authenticate.js";
import type { RateLimitUseCase } from "../app/rate-limit.js";
import { InvalidRequestError } from "../domain/errors.js";
import type { RequestKind } from "../domain/ratelimiter.js";
import { CALLER, callerOf } from "./caller.js";
import { scopeOf } from "./call-scope.js";
import { errorInterceptor } from "./errors.js";

/** Methods that need no session: Login only. Every other method is authenticated and limited. */
const PUBLIC_METHODS: ReadonlySet<string> = new Set([KvServiceMethodNames.login]);

/** The bucket each limited method spends from. */
const METHOD_KINDS: ReadonlyMap<string, RequestKind> = new Map<string, RequestKind>([
  [KvServiceMethodNames.readSecureMessage, "read"],
  [KvServiceMethodNames.writeSecureMessage, "write"],
  // A watch spends one read token when it opens, whatever it then receives.
  [KvServiceMethodNames.watchSecureMessage, "read"],
]);

/** What the KvService interceptors use. */
export interface KvInterceptorDeps {
  readonly authenticate: AuthenticateUseCase;
  readonly rateLimit: RateLimitUseCase;
  readonly logger: Logger;
}

/**
 * The KvService interceptors, in the order they must run (SPEC §6):
 * 1. `errors`: maps every domain error below it, the handler's included, to a dora error;
 * 2. `auth`: checks the session and sets the call's {@link CALLER};
 * 3. `limit`: spends a token of the caller's bucket, so a request that fails `auth` spends none.
 */
export function kvInterceptors(deps: KvInterceptorDeps): Interceptor[] {
  return [errorInterceptor(deps.logger), authInterceptor(deps.authenticate), limitInterceptor(deps.rateLimit)];
}

/**
 * `auth` (SPEC §6): every method but Login needs meta `username` and `token`.
 * A missing key → BadRequest; an empty token, no session, an expired one or a
 * wrong one → Unauthenticated. On success the username becomes the call's
 * {@link CALLER}.
 */
function authInterceptor(authenticate: AuthenticateUseCase): Interceptor {
  return (next) => async (req) => {
    if (PUBLIC_METHODS.has(req.method)) return next(req);
    const username = req.meta["username"];
    const token = req.meta["token"];
    if (username === undefined) throw new InvalidRequestError("missing metadata: username");
    if (token === undefined) throw new InvalidRequestError("missing metadata: token");
    await authenticate.execute(username, token, scopeOf(req));
    req.values.set(CALLER, username);
    return next(req);
  };
}

/**
 * `limit` (SPEC §6): spends one token of the caller's read or write bucket;
 * an empty bucket → Unavailable "rate limit".
 */
function limitInterceptor(rateLimit: RateLimitUseCase): Interceptor {
  return (next) => async (req) => {
    const kind = METHOD_KINDS.get(req.method);
    if (kind === undefined) return next(req);
    await rateLimit.execute(callerOf(req.values), kind, scopeOf(req));
    return next(req);
  };
}
