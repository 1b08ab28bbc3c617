import type { KvServiceClient } from "@dora/tiger/kv/v1";
import { describeStatus, KvCode, statusCode } from "./business-status.js";
import { describeCallError } from "./command-failure.js";
import type { Session } from "./session.js";

/** Why a login did not open a session, in words, and the call's error when there was one. */
export interface LoginRefusal {
  readonly reason: string;
  readonly cause?: unknown;
}

/**
 * Logs `session`'s user in with `password` and, on success, stores the token
 * in the session. Returns undefined then; otherwise why not: the call's
 * failure (`Unavailable: …`), the business status (`incorrect username or
 * password`), or an empty token. The caller words it as its own failure.
 */
export async function logIn(api: KvServiceClient, session: Session, password: string): Promise<LoginRefusal | undefined> {
  let response;
  try {
    response = await api.login({ username: session.username, password });
  } catch (error) {
    return { reason: describeCallError(error), cause: error };
  }
  if (statusCode(response.status) !== KvCode.OK) return { reason: describeStatus(response.status) };
  if (response.token === "") return { reason: "the server sent an empty token" };
  session.establish(response.token);
  return undefined;
}
