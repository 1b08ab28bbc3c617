import { Redis } from "ioredis";

/** How etserver connects to Redis (SPEC §6 `redis`). */
export interface RedisSettings {
  /** `redis://[user:pass@]host:port/db`. Default redis://127.0.0.1:6379/0. */
  readonly url: string;
  /** Prefix of every key etserver writes. Default "dora:". */
  readonly keyPrefix: string;
  /** A command that gets no answer within this many milliseconds fails. Default 1000. */
  readonly commandTimeoutMs: number;
}

/** Receives connection errors (already rate-limited to one per state change). */
export type RedisErrorSink = (message: string) => void;

/**
 * Opens an ioredis connection that fails fast instead of queueing while Redis
 * is down (`enableOfflineQueue: false`, `maxRetriesPerRequest: 1`, a
 * `commandTimeout`), and keeps reconnecting in the background so etserver
 * recovers by itself when Redis returns.
 */
export function connectRedis(settings: RedisSettings, onError: RedisErrorSink): Redis {
  return reportingErrors(new Redis(settings.url, baseOptions(settings)), onError);
}

/**
 * Opens the connection that subscribes to watch channels: like
 * {@link connectRedis}, but a command in flight when the connection drops
 * fails at once instead of being sent again, and nothing is resubscribed on
 * reconnect: a dropped subscriber has missed writes, so its watches end
 * (Unavailable) rather than silently resume with a gap.
 */
export function connectRedisSubscriber(settings: RedisSettings, onError: RedisErrorSink): Redis {
  return reportingErrors(new Redis(settings.url, { ...baseOptions(settings), maxRetriesPerRequest: 0, autoResubscribe: false, autoResendUnfulfilledCommands: false }), onError);
}

function baseOptions(settings: RedisSettings) {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: Math.max(settings.commandTimeoutMs, 1000),
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
    lazyConnect: false,
  };
}

function reportingErrors(client: Redis, onError: RedisErrorSink): Redis {
  let reported = false;
  client.on("error", (error: Error) => {
    if (reported) return;
    reported = true;
    onError(`redis: ${error.message}`);
  });
  client.on("ready", () => (reported = false));
  return client;
}

/** Waits until `client` is ready, or rejects after `timeoutMs`. */
export function waitForRedis(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}
