import { Code as KvCode, type Status } from "@dora/tiger/kv/v1";

/** kv.proto's business codes, from the generated enum. */
export { KvCode };

/** The code of a response's business status: an absent status is OK (proto3 default). */
export function statusCode(status: Status | undefined): number {
  return status?.code ?? KvCode.OK;
}

/**
 * A business status in words: `incorrect username or password` (1000),
 * `key does not exist` (1001); any other code prints as `status N` plus the
 * server's message.
 */
export function describeStatus(status: Status | undefined): string {
  const code = statusCode(status);
  switch (code) {
    case KvCode.OK:
      return "ok";
    case KvCode.INCORRECT_USERNAME_OR_PASSWORD:
      return "incorrect username or password";
    case KvCode.KEY_NOT_EXIST:
      return "key does not exist";
    default:
      return status?.message ? `status ${code}: ${status.message}` : `status ${code}`;
  }
}
