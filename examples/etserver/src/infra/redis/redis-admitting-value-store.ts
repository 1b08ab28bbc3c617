import type { Redis } from "ioredis";
import type { AdmissionRefusal, Admitted, AdmittingValueStore, SizedAdmission } from "../../domain/admission.js";
import { systemClock, type Clock } from "../../domain/clock.js";
import { bucketName } from "../../domain/ratelimiter.js";
import { RedisTurnBatcher } from "./redis-connection.js";
import { bucketKey, TAKE_TOKEN_LUA_FUNCTION } from "./redis-rate-limiter.js";
import { SESSION_MATCHES_LUA_FUNCTION, sessionKey } from "./redis-session-repository.js";
import { SET_AND_PUBLISH_LUA_FUNCTION, valueKey } from "./redis-value-repository.js";

/**
 * The admission of SPEC §6 and the operation in one script, so a read or a
 * write is one Redis round trip. The same Lua functions as the separate
 * stores (the session check of RedisSessionRepository, the bucket of
 * RedisRateLimiter, the SET+PUBLISH of RedisValueRepository), in the order of
 * the interceptors: a wrong session returns before the bucket is touched, an
 * empty bucket before the value is.
 *
 * KEYS[1] the session, KEYS[2] the bucket, KEYS[3] the value.
 * ARGV[1] the presented token, ARGV[2] etserver's time (epoch ms; it decides
 * expiry, as for the separate session check), ARGV[3] the bucket's rate per
 * second, ARGV[4] its burst, ARGV[5] (write) the value.
 */
const ADMISSION_LUA = `${SESSION_MATCHES_LUA_FUNCTION}${TAKE_TOKEN_LUA_FUNCTION}
local function refusal()
  if not session_matches(KEYS[1], ARGV[1], tonumber(ARGV[2])) then return 1 end
  if take_token(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4])) == 0 then return 2 end
  return 0
end
`;

/** Answers 0 (written), 1 (unauthenticated: nothing spent or written) or 2 (limited: nothing written). */
const SET_IF_ADMITTED_LUA = `${ADMISSION_LUA}${SET_AND_PUBLISH_LUA_FUNCTION}
local refused = refusal()
if refused ~= 0 then return refused end
set_and_publish(KEYS[3], ARGV[5])
return 0
`;

/** Answers {0, value or nil}, {1} (unauthenticated: nothing spent) or {2} (limited). */
const GET_IF_ADMITTED_LUA = `${ADMISSION_LUA}
local refused = refusal()
if refused ~= 0 then return {refused} end
return {0, redis.call('GET', KEYS[3])}
`;

/** KEYS[1..3] and ARGV[1..4] of both scripts: the session, bucket and value keys, the token, etserver's time, the bucket's rate and burst. */
type AdmissionArgs = [session: string, bucket: string, value: string, token: string, nowMs: number, rate: number, burst: number];

interface AdmittingCommands {
  doraSetIfAdmitted(...args: [...AdmissionArgs, content: string]): Promise<number>;
  doraGetIfAdmitted(...args: AdmissionArgs): Promise<[number, (string | null)?]>;
}

const WRITTEN: Admitted<void> = { admitted: true, value: undefined };
const REFUSALS: ReadonlyMap<number, Admitted<never>> = new Map<number, Admitted<never>>([
  [1, { admitted: false, refusal: "unauthenticated" satisfies AdmissionRefusal }],
  [2, { admitted: false, refusal: "limited" satisfies AdmissionRefusal }],
]);

/**
 * Reads and writes whose admission Redis checks in the same script
 * (domain/admission.ts), over the keys of the separate Redis stores, so both
 * paths share sessions, buckets and values, and every etserver on that Redis
 * sees the same.
 */
export class RedisAdmittingValueStore implements AdmittingValueStore {
  private readonly commands: AdmittingCommands;
  private readonly batch: RedisTurnBatcher;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock = systemClock,
  ) {
    // ioredis runs a defined command with EVALSHA, loading the script once per connection.
    const defined = redis as unknown as Partial<AdmittingCommands>;
    if (typeof defined.doraSetIfAdmitted !== "function") redis.defineCommand("doraSetIfAdmitted", { numberOfKeys: 3, lua: SET_IF_ADMITTED_LUA });
    if (typeof defined.doraGetIfAdmitted !== "function") redis.defineCommand("doraGetIfAdmitted", { numberOfKeys: 3, lua: GET_IF_ADMITTED_LUA });
    this.commands = redis as unknown as AdmittingCommands;
    this.batch = new RedisTurnBatcher(redis);
  }

  /** @inheritdoc */
  async setIfAdmitted(admission: SizedAdmission, key: string, value: string): Promise<Admitted<void>> {
    this.batch.hold();
    const answer = await this.commands.doraSetIfAdmitted(...this.admissionArgs(admission, key), value);
    return answer === 0 ? WRITTEN : refused(answer);
  }

  /** @inheritdoc */
  async getIfAdmitted(admission: SizedAdmission, key: string): Promise<Admitted<string | undefined>> {
    this.batch.hold();
    const [answer, value] = await this.commands.doraGetIfAdmitted(...this.admissionArgs(admission, key));
    return answer === 0 ? { admitted: true, value: value ?? undefined } : refused(answer);
  }

  private admissionArgs(admission: SizedAdmission, key: string): AdmissionArgs {
    const { username, bucket } = admission;
    return [
      sessionKey(this.keyPrefix, username),
      bucketKey(this.keyPrefix, bucketName(admission.kind, username)),
      valueKey(this.keyPrefix, username, key),
      admission.token,
      this.clock.now(),
      bucket.ratePerSecond,
      bucket.burst,
    ];
  }
}

function refused(answer: number): Admitted<never> {
  const refusal = REFUSALS.get(answer);
  if (refusal === undefined) throw new Error(`admission script answered ${String(answer)}`);
  return refusal;
}
