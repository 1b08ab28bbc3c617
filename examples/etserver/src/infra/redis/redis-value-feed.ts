import type { Redis } from "ioredis";
import { StoreUnavailableError } from "../../domain/errors.js";
import type { FeedSubscription, ValueFeed, WatchListener } from "../../domain/watch.js";
import { valueKey } from "./redis-value-repository.js";

/**
 * The pub/sub channel of `key` owned by `username`: the name of its value key
 * (`valueKey`: `<prefix>v:<bytes of username>:<username>:<key>`, or its
 * SHA-256 when that is long; channels and keys are separate namespaces in
 * Redis). The username is length-prefixed (see
 * `ownedKey`), so no two (user, key) pairs share a channel, and the script
 * that stores a value publishes it on the key name it already holds, with no
 * channel name to build or send.
 */
export function watchChannel(keyPrefix: string, username: string, key: string): string {
  return valueKey(keyPrefix, username, key);
}

/** One subscribed channel: its local listeners and the SUBSCRIBE that serves them all. */
interface Channel {
  readonly listeners: Set<WatchListener>;
  readonly subscribed: Promise<unknown>;
}

/**
 * Watches over Redis pub/sub, shared by every etserver on that Redis: writes
 * are published by {@link RedisValueRepository} (SET and PUBLISH in one
 * script). One subscriber connection per process serves every watch; a
 * channel is subscribed while at least one local listener needs it
 * (reference-counted), and unsubscribed when the last one leaves.
 *
 * When the subscriber connection drops, writes may have been missed, so every
 * listener ends with StoreUnavailableError; new watches subscribe again once
 * ioredis has reconnected.
 */
export class RedisValueFeed implements ValueFeed {
  private readonly channels = new Map<string, Channel>();
  private closing = false;

  /**
   * @param subscriber a connection used only for subscriptions (see `connectRedisSubscriber`).
   * @param onLost called when the connection drops with listeners still waiting, with how many were ended.
   */
  constructor(
    private readonly subscriber: Redis,
    private readonly keyPrefix: string,
    private readonly onLost: (ended: number) => void = () => undefined,
  ) {
    subscriber.on("message", (channel: string, value: string) => this.deliver(channel, value));
    subscriber.on("close", () => this.dropAll());
  }

  /** Channels this process subscribes to. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** @inheritdoc */
  async subscribe(username: string, key: string, listener: WatchListener): Promise<FeedSubscription> {
    if (this.closing) throw new StoreUnavailableError("watch feed closed");
    const name = watchChannel(this.keyPrefix, username, key);
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = { listeners: new Set(), subscribed: this.subscriber.subscribe(name) };
      this.channels.set(name, channel);
      const created = channel;
      // A SUBSCRIBE that fails fails every listener waiting on it; the next watch tries afresh.
      created.subscribed.catch(() => {
        if (this.channels.get(name) === created) this.channels.delete(name);
      });
    }
    channel.listeners.add(listener);
    try {
      await channel.subscribed;
    } catch (error) {
      channel.listeners.delete(listener);
      throw new StoreUnavailableError("watch subscription failed", { cause: error });
    }
    const joined = channel;
    return { unsubscribe: () => this.leave(name, joined, listener) };
  }

  /** Stops the feed: no new subscriptions; the subscriber connection is closed by its owner. */
  close(): void {
    this.closing = true;
  }

  private deliver(name: string, value: string): void {
    const channel = this.channels.get(name);
    if (channel === undefined) return;
    // A listener may leave while it is called (a watcher that fell behind); a Set allows that during iteration.
    for (const listener of channel.listeners) listener.onValue(value);
  }

  private leave(name: string, channel: Channel, listener: WatchListener): void {
    if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return;
    if (this.channels.get(name) !== channel) return;
    this.channels.delete(name);
    // Sent after the SUBSCRIBE on the same connection, so Redis applies them in order; a failure
    // means the connection dropped, which ended the subscription anyway.
    this.subscriber.unsubscribe(name).catch(() => undefined);
  }

  private dropAll(): void {
    if (this.channels.size === 0) return;
    const error = new StoreUnavailableError("watch feed lost: the redis subscriber connection closed");
    const channels = [...this.channels.values()];
    this.channels.clear();
    let ended = 0;
    for (const channel of channels) {
      for (const listener of channel.listeners) {
        ended++;
        listener.onEnd(error);
      }
      channel.listeners.clear();
    }
    if (!this.closing && ended > 0) this.onLost(ended);
  }
}
