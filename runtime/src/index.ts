/**
 * @dora/runtime: the dora v2 protocol for Node.js — nap transport, Pkg
 * envelope, codecs, server, client, interceptors. Generated code from
 * protoc-gen-dora targets this API. Depends on @bufbuild/protobuf only; the
 * YAML config loader lives in the `@dora/runtime/config` subpath.
 */
export { Code, codeName, codeFromName } from "./code.js";
export { DoraError, isDoraError } from "./dora-error.js";
export { CodecRegistry, jsonCodec, protoCodec, type Codec } from "./codec.js";
export { createHandlerContext, type HandlerContext, type Peer } from "./context.js";
export type { ClientInterceptor, ClientNext, ClientRequest, ClientResponse, ServerInterceptor, ServerNext } from "./interceptor.js";
export { Server, createServer, type ServerOptions, type ServerTlsOptions } from "./server.js";
export { Client, createClient, type CallOptions, type ClientOptions, type ClientTlsOptions } from "./client.js";
export { DEFAULTS } from "./options.js";
export { createConsoleLogger, parseLogLevel, silentLogger, type LogLevel, type Logger } from "./logger.js";
