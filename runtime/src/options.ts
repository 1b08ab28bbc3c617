/**
 * Option defaults and validation, in one place (SPEC §4). Internal module.
 * Every error names the option.
 */
import type { Codec } from "./codec.js";
import { CodecRegistry } from "./codec-registry.js";
import type { ClientOptions, CommonClientOptions } from "./client-options.js";
import type { ServerOptions } from "./server-options.js";
import { parseHostPort } from "./host-port.js";

/** Defaults of server and client options (milliseconds, bytes, counts). */
export const DEFAULTS = {
  keepaliveTimeMs: 5000,
  keepaliveTimeoutMs: 20000,
  frameTimeoutMs: 20000,
  handshakeTimeoutMs: 10000,
  maxConnections: 10000,
  maxConnectionsPerAddress: 1000,
  maxFrameBytes: 4 * 1024 * 1024,
  maxMetadataBytes: 16 * 1024,
  maxConcurrentCalls: 1000,
  closeGraceMs: 5000,
  poolSize: 10,
  timeoutMs: 5000,
  connectTimeoutMs: 5000,
  probeTimeoutMs: 1000,
  reconnectInitialMs: 1000,
  reconnectMaxMs: 120000,
  streamWindowBytes: 65536,
} as const;

/** Largest frame length the u32 length field can carry. */
const MAX_U32 = 0xffffffff;
/**
 * The longest deadline, timeout or timer delay dora accepts, in milliseconds:
 * 2^31−1 (about 24.8 days), the largest delay a Node timer can wait (a longer
 * one fires after 1 ms). A `dora-timeout` above it is clamped to it.
 */
export const MAX_TIMEOUT_MS = 0x7fffffff;
const MAX_TIMER_MS = MAX_TIMEOUT_MS;

/**
 * Returns `value` or its default, after checking it is an integer within
 * `[min, max]`; throws a `RangeError`/`TypeError` naming `name` otherwise.
 */
export function intOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`option ${name} must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`option ${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** A stream window: the protocol's default window can only be raised, up to 2^31−1 (docs/protocol.md "Streaming"). */
function streamWindowOption(value: number | undefined): number {
  return intOption("streamWindowBytes", value, DEFAULTS.streamWindowBytes, DEFAULTS.streamWindowBytes, 0x7fffffff);
}

/** Transport options, validated. */
export interface TransportOptions {
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** A frame whose first bytes arrived must be complete within this many milliseconds. */
  readonly frameTimeoutMs: number;
  readonly maxFrameBytes: number;
}

/** Validates the transport options common to server and client. */
export function transportOptions(o: {
  keepaliveTimeMs?: number | undefined;
  keepaliveTimeoutMs?: number | undefined;
  frameTimeoutMs?: number | undefined;
  maxFrameBytes?: number | undefined;
}): TransportOptions {
  return {
    keepaliveTimeMs: intOption("keepaliveTimeMs", o.keepaliveTimeMs, DEFAULTS.keepaliveTimeMs, 1, MAX_TIMER_MS),
    keepaliveTimeoutMs: intOption("keepaliveTimeoutMs", o.keepaliveTimeoutMs, DEFAULTS.keepaliveTimeoutMs, 1, MAX_TIMER_MS),
    frameTimeoutMs: intOption("frameTimeoutMs", o.frameTimeoutMs, DEFAULTS.frameTimeoutMs, 1, MAX_TIMER_MS),
    maxFrameBytes: intOption("maxFrameBytes", o.maxFrameBytes, DEFAULTS.maxFrameBytes, 64, MAX_U32),
  };
}

/** Parses `host:port` or `[v6]:port`; throws naming `name` when malformed. An empty host is 127.0.0.1. */
export function parseAddress(name: string, address: string): { host: string; port: number } {
  const parsed = parseHostPort(address);
  if (parsed === undefined) throw new TypeError(`option ${name}: expected HOST:PORT, got ${JSON.stringify(address)}`);
  return { host: parsed.host === "" ? "127.0.0.1" : parsed.host, port: parsed.port };
}

/** A server's options, validated. */
export interface ServerConfig {
  readonly transport: TransportOptions;
  readonly maxMetadataBytes: number;
  readonly maxConcurrentCalls: number;
  readonly closeGraceMs: number;
  readonly streamWindowBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly codecs: CodecRegistry;
}

/** Validates a server's options. */
export function serverConfig(o: ServerOptions): ServerConfig {
  return {
    transport: transportOptions(o),
    maxMetadataBytes: intOption("maxMetadataBytes", o.maxMetadataBytes, DEFAULTS.maxMetadataBytes, 0),
    maxConcurrentCalls: intOption("maxConcurrentCalls", o.maxConcurrentCalls, DEFAULTS.maxConcurrentCalls, 1),
    closeGraceMs: intOption("closeGraceMs", o.closeGraceMs, DEFAULTS.closeGraceMs, 0, MAX_TIMER_MS),
    streamWindowBytes: streamWindowOption(o.streamWindowBytes),
    handshakeTimeoutMs: intOption("handshakeTimeoutMs", o.handshakeTimeoutMs, DEFAULTS.handshakeTimeoutMs, 1, MAX_TIMER_MS),
    maxConnections: intOption("maxConnections", o.maxConnections, DEFAULTS.maxConnections, 1),
    maxConnectionsPerAddress: intOption("maxConnectionsPerAddress", o.maxConnectionsPerAddress, DEFAULTS.maxConnectionsPerAddress, 1),
    codecs: new CodecRegistry(o.codecs),
  };
}

/** What every client (socket or in-process) validates. */
export interface CallConfig {
  readonly timeoutMs: number;
  readonly maxFrameBytes: number;
  readonly streamWindowBytes: number;
  readonly codecs: CodecRegistry;
  /** The codec requests are sent with. */
  readonly codec: Codec;
}

/** Validates the options common to every client. */
export function callConfig(o: CommonClientOptions): CallConfig {
  const codecs = new CodecRegistry(o.codecs);
  const codec = codecs.get(o.serializeType ?? "proto");
  if (codec === undefined) throw new TypeError(`option serializeType: unknown codec ${JSON.stringify(o.serializeType)}`);
  return {
    timeoutMs: intOption("timeoutMs", o.timeoutMs, DEFAULTS.timeoutMs, 1, MAX_TIMER_MS),
    maxFrameBytes: intOption("maxFrameBytes", o.maxFrameBytes, DEFAULTS.maxFrameBytes, 64, MAX_U32),
    streamWindowBytes: streamWindowOption(o.streamWindowBytes),
    codecs,
    codec,
  };
}

/** A socket client's options, validated. */
export interface ClientConfig extends CallConfig {
  readonly addresses: readonly { readonly host: string; readonly port: number }[];
  readonly transport: TransportOptions;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly probeTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
}

/** Validates a socket client's options. */
export function clientConfig(o: ClientOptions): ClientConfig {
  const addresses = typeof o.address === "string" ? [o.address] : [...o.address];
  if (addresses.length === 0) throw new TypeError("option address must name at least one HOST:PORT");
  const reconnectInitialMs = intOption("reconnectInitialMs", o.reconnectInitialMs, DEFAULTS.reconnectInitialMs, 1, MAX_TIMER_MS);
  return {
    ...callConfig(o),
    addresses: addresses.map((a) => parseAddress("address", a)),
    transport: transportOptions(o),
    poolSize: intOption("poolSize", o.poolSize, DEFAULTS.poolSize, 1, 10000),
    connectTimeoutMs: intOption("connectTimeoutMs", o.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 1, MAX_TIMER_MS),
    probeTimeoutMs: intOption("probeTimeoutMs", o.probeTimeoutMs, DEFAULTS.probeTimeoutMs, 1, MAX_TIMER_MS),
    reconnectInitialMs,
    reconnectMaxMs: intOption("reconnectMaxMs", o.reconnectMaxMs, DEFAULTS.reconnectMaxMs, reconnectInitialMs, MAX_TIMER_MS),
  };
}
