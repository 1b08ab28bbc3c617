import type { Redis } from "ioredis";
import type { AdmissionRefusal, Admitted, AdmittingValueStore, SizedAdmission } from "../../domain/admission.js";
import { systemClock, type Clock } from "../../domain/clock.js";
import { bucketName } from "../../domain/ratelimiter.js";
import { bucketKey, TAKE_TOKEN_LUA_FUNCTION } from "./redis-rate-limiter.js";
import { SESSION_MATCHES_LUA_FUNCTION, sessionKey } from "./redis-session-repository.js";
import { SET_AND_PUBLISH_LUA_FUNCTION, valueKey } from "./redis-value-repository.js";

/**
 * Most admissions one script call checks. The admissions of one event-loop
 * turn go to Redis together; more than this many are sent as several calls,
 * so one call never holds Redis (single-threaded) for long.
 */
export const MAX_ADMISSIONS_PER_SCRIPT = 64;

/**
 * The admission of SPEC §6 and the operation in one script, for every read
 * and write that arrived in one turn of the event loop: one Redis command and
 * one round trip for all of them. The same Lua functions as the separate
 * stores (the session check of RedisSessionRepository, the bucket of
 * RedisRateLimiter, the SET+PUBLISH of RedisValueRepository), in the order of
 * the interceptors: a wrong session ends that admission before its bucket is
 * touched, an empty bucket before its value is. Admissions are checked one
 * after another in the order they were made, exactly as separate scripts
 * sent in that order would check them.
 *
 * KEYS, three per admission i (from 0): KEYS[3i+1] the session, KEYS[3i+2]
 * the bucket, KEYS[3i+3] the value.
 * ARGV[1] etserver's time (epoch ms; it decides session expiry, as for the
 * separate session check); then four per admission: ARGV[4i+2] "r" (read) or
 * "w" (write), ARGV[4i+3] the presented token, ARGV[4i+4] the bucket's rate
 * per second, ARGV[4i+5] its burst. Then one value per write, in order.
 *
 * Answers two entries per admission: 0 (admitted), 1 (unauthenticated:
 * nothing spent or written) or 2 (limited: nothing written or read), then
 * the value read (false, a nil reply, for a write, a refusal or a missing
 * value).
 */
const ADMIT_LUA = `${SESSION_MATCHES_LUA_FUNCTION}${TAKE_TOKEN_LUA_FUNCTION}${SET_AND_PUBLISH_LUA_FUNCTION}
local now = tonumber(ARGV[1])
local count = #KEYS / 3
local next_value = 2 + count * 4
local out = {}
for i = 0, count - 1 do
  local k, a = i * 3, i * 4 + 2
  local write = ARGV[a] == 'w'
  local answer, value = 0, false
  if not session_matches(KEYS[k + 1], ARGV[a + 1], now) then
    answer = 1
  elseif take_token(KEYS[k + 2], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])) == 0 then
    answer = 2
  elseif write then
    set_and_publish(KEYS[k + 3], ARGV[next_value])
  else
    value = redis.call('GET', KEYS[k + 3])
  end
  if write then next_value = next_value + 1 end
  out[i * 2 + 1] = answer
  out[i * 2 + 2] = value
end
return out
`;

interface AdmittingCommands {
  /** `numberOfKeys` first, as ioredis sends a defined command whose key count varies. */
  doraAdmit(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<(number | string | null)[]>;
}

/** One admission waiting for its turn's script call. */
interface Waiting {
  readonly resolve: (outcome: Admitted<string | undefined>) => void;
  readonly reject: (error: unknown) => void;
}

/** The admissions of one script call, in the order of the script's KEYS and ARGV. */
class Batch {
  readonly keys: string[] = [];
  readonly args: (string | number)[] = [];
  readonly values: string[] = [];
  readonly waiting: Waiting[] = [];
}

/** An admitted write, or an admitted read of a missing value: the script answers nil for both. */
const ADMITTED_WITHOUT_VALUE: Admitted<undefined> = { admitted: true, value: undefined };
const REFUSALS: ReadonlyMap<number, Admitted<never>> = new Map<number, Admitted<never>>([
  [1, { admitted: false, refusal: "unauthenticated" satisfies AdmissionRefusal }],
  [2, { admitted: false, refusal: "limited" satisfies AdmissionRefusal }],
]);

/**
 * Reads and writes whose admission Redis checks in the same script
 * (domain/admission.ts), over the keys of the separate Redis stores, so both
 * paths share sessions, buckets and values, and every etserver on that Redis
 * sees the same.
 *
 * The admissions made in one turn of the event loop are sent together when
 * the turn ends (`process.nextTick`), at most
 * {@link MAX_ADMISSIONS_PER_SCRIPT} per script call. A script call that
 * fails (Redis down, a command timeout) fails every admission it carried.
 */
export class RedisAdmittingValueStore implements AdmittingValueStore {
  /** The client's `commandTimeout`: ioredis fails a command that has no answer by then (its timer starts when the turn's script call is sent). */
  readonly answersWithinMs: number | undefined;
  private readonly commands: AdmittingCommands;
  private batch: Batch | undefined;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock = systemClock,
  ) {
    // ioredis runs a defined command with EVALSHA, loading the script once per connection.
    if (typeof (redis as unknown as Partial<AdmittingCommands>).doraAdmit !== "function") redis.defineCommand("doraAdmit", { lua: ADMIT_LUA });
    this.commands = redis as unknown as AdmittingCommands;
    const timeout = redis.options.commandTimeout;
    this.answersWithinMs = typeof timeout === "number" && timeout > 0 ? timeout : undefined;
  }

  /** @inheritdoc */
  setIfAdmitted(admission: SizedAdmission, key: string, value: string): Promise<Admitted<void>> {
    // A write's outcome never carries a value (the script answers nil for it).
    return this.admit(admission, key, value) as Promise<Admitted<void>>;
  }

  /** @inheritdoc */
  getIfAdmitted(admission: SizedAdmission, key: string): Promise<Admitted<string | undefined>> {
    return this.admit(admission, key, undefined);
  }

  /** Queues one admission (a write when `value` is given) for this turn's script call. */
  private admit(admission: SizedAdmission, key: string, value: string | undefined): Promise<Admitted<string | undefined>> {
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = new Batch();
      process.nextTick(this.sendTurn, batch);
    }
    const { username, bucket } = admission;
    const write = value !== undefined;
    batch.keys.push(sessionKey(this.keyPrefix, username), bucketKey(this.keyPrefix, bucketName(admission.kind, username)), valueKey(this.keyPrefix, username, key));
    batch.args.push(write ? "w" : "r", admission.token, bucket.ratePerSecond, bucket.burst);
    if (write) batch.values.push(value);
    const answer = new Promise<Admitted<string | undefined>>((resolve, reject) => batch.waiting.push({ resolve, reject }));
    if (batch.waiting.length === MAX_ADMISSIONS_PER_SCRIPT) this.send(batch);
    return answer;
  }

  /** Sends the turn's admissions, unless they were sent when the batch filled up. */
  private readonly sendTurn = (batch: Batch): void => {
    if (this.batch === batch) this.send(batch);
  };

  private send(batch: Batch): void {
    if (this.batch === batch) this.batch = undefined;
    const { keys, waiting } = batch;
    this.commands.doraAdmit(keys.length, ...keys, this.clock.now(), ...batch.args, ...batch.values).then(
      (answers) => {
        for (let i = 0; i < waiting.length; i++) {
          const entry = waiting[i]!;
          const answer = answers[i * 2];
          if (answer === 0) {
            const value = answers[i * 2 + 1];
            entry.resolve(typeof value === "string" ? { admitted: true, value } : ADMITTED_WITHOUT_VALUE);
          } else {
            const refusal = REFUSALS.get(answer as number);
            if (refusal === undefined) entry.reject(new Error(`admission script answered ${String(answer)}`));
            else entry.resolve(refusal);
          }
        }
      },
      (error: unknown) => {
        for (const entry of waiting) entry.reject(error);
      },
    );
  }
}
