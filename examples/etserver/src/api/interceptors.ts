import type { Interceptor, Logger } from "@dora/runtime";
import { KvServiceMethodNames } from "@dora/tiger/kv/v1";
import type { AuthenticateUseCase } from "../app/authenticate.js";
import type { RateLimitUseCase } from "../app/rate-limit.js";
import type { Admission } from "../domain/admission.js";
import { InvalidRequestError } from "../domain/errors.js";
import type { RequestKind } from "../domain/ratelimiter.js";
import { CALLER, noCaller } from "./caller.js";
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

/**
 * Methods whose use case can run the admission itself (`actorOf` in
 * kv-handler.ts), with the store's operation in one step when the store can:
 * ReadSecureMessage and WriteSecureMessage. WatchSecureMessage is checked by
 * the interceptors as it opens.
 */
const DEFERRABLE_METHODS: ReadonlySet<string> = new Set([KvServiceMethodNames.readSecureMessage, KvServiceMethodNames.writeSecureMessage]);

/** What the KvService interceptors use. */
export interface KvInterceptorDeps {
  readonly authenticate: AuthenticateUseCase;
  readonly rateLimit: RateLimitUseCase;
  readonly logger: Logger;
  /**
   * True when the store checks an admission with the operation in one step
   * (domain/admission.ts): `auth` and `limit` then only gather the
   * credentials and the bucket of reads and writes, and the use case runs
   * the checks. Default false: the interceptors check every call themselves.
   */
  readonly deferAdmission?: boolean;
}

/**
 * The KvService interceptors, in the order they must run (SPEC §6):
 * 1. `errors`: maps every domain error below it, the handler's included, to a dora error;
 * 2. `auth`: checks the session and sets the call's {@link CALLER};
 * 3. `limit`: spends a token of the caller's bucket, so a request that fails `auth` spends none.
 * With `deferAdmission`, reads and writes carry their credentials and bucket
 * to the use case, which checks them in the same order (app/admission.ts).
 */
export function kvInterceptors(deps: KvInterceptorDeps): Interceptor[] {
  const deferred = deps.deferAdmission === true ? DEFERRABLE_METHODS : new Set<string>();
  return [errorInterceptor(deps.logger), authInterceptor(deps.authenticate, deferred), limitInterceptor(deps.rateLimit)];
}

/**
 * `auth` (SPEC §6): every method but Login needs meta `username` and `token`.
 * A missing key → BadRequest; an empty token, no session, an expired one or a
 * wrong one → Unauthenticated. On success the username becomes the call's
 * {@link CALLER}. For a method in `deferred`, only what needs no store is
 * checked here (the metadata, an empty token); the credentials become the
 * call's CALLER and its use case checks the session (see `actorOf`).
 */
function authInterceptor(authenticate: AuthenticateUseCase, deferred: ReadonlySet<string>): Interceptor {
  return (next) => async (req) => {
    if (PUBLIC_METHODS.has(req.method)) return next(req);
    const username = req.meta["username"];
    const token = req.meta["token"];
    if (username === undefined) throw new InvalidRequestError("missing metadata: username");
    if (token === undefined) throw new InvalidRequestError("missing metadata: token");
    if (deferred.has(req.method)) {
      authenticate.refuseEmpty(token);
      req.values.set(CALLER, { username, token });
      return next(req);
    }
    await authenticate.execute(username, token, scopeOf(req));
    req.values.set(CALLER, username);
    return next(req);
  };
}

/**
 * `limit` (SPEC §6): spends one token of the caller's read or write bucket;
 * an empty bucket → Unavailable "rate limit". When `auth` deferred the
 * session check to the use case, the bucket is deferred with it: the
 * credentials become an {@link Admission} naming the bucket, and nothing is
 * spent here (the session has not been checked yet).
 */
function limitInterceptor(rateLimit: RateLimitUseCase): Interceptor {
  return (next) => async (req) => {
    const kind = METHOD_KINDS.get(req.method);
    if (kind === undefined) return next(req);
    const caller = req.values.get(CALLER);
    if (typeof caller === "string") {
      await rateLimit.execute(caller, kind, scopeOf(req));
      return next(req);
    }
    // `auth` did not run before, or this is not the credentials it set: a wiring mistake.
    if (caller === undefined || "kind" in caller) throw noCaller();
    const admission: Admission = { username: caller.username, token: caller.token, kind };
    req.values.set(CALLER, admission);
    return next(req);
  };
}
