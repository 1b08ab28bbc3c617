/**
 * @dora/runtime: the dora v2 protocol for Node.js — nap transport, Pkg
 * envelope, codecs, server, client, interceptors. Generated code from
 * protoc-gen-dora targets this API. Depends on @bufbuild/protobuf only; the
 * YAML config loader lives in the `@dora/runtime/config` subpath.
 *
 * This file is the whole public surface: interfaces and `create…` factories.
 */
export { Code, codeName, codeFromName } from "./code.js";
export { DoraError, isDoraError } from "./dora-error.js";
export { jsonCodec, protoCodec, type Codec } from "./codec.js";
export { createHandlerContext, type HandlerContext, type Peer } from "./handler-context.js";
export { createContextKey, createContextValues, type ContextKey, type ContextValues } from "./context-values.js";
export type { AnyFn, AnyRequest, AnyResponse, Interceptor, StreamRequest, StreamResponse, UnaryFn, UnaryRequest, UnaryResponse } from "./interceptor.js";
export { createServer, type Server } from "./server.js";
export type { ServerOptions, ServerTlsOptions } from "./server-options.js";
export { createClient, type Client } from "./client.js";
export type { CallOptions, ClientOptions, ClientTlsOptions, CommonClientOptions } from "./client-options.js";
export { createInProcessClient, type InProcessClientOptions } from "./in-process-client.js";
export { DORA_V2_MAX_FRAME_BYTES, doraV2CompatClientOptions, doraV2CompatServerOptions } from "./dora-v2-compat.js";
export { DEFAULTS, MAX_TIMEOUT_MS } from "./options.js";
export { createConsoleLogger, parseLogLevel, silentLogger, type ConsoleLoggerOptions, type LogFields, type LogLevel, type Logger } from "./logger.js";
