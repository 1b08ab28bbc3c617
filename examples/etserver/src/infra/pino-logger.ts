import pino from "pino";
import type { Logger, LogLevel } from "@dora/runtime";

/** The fields a runtime Logger call carries. */
type LogFields = Readonly<Record<string, unknown>>;

/** What etserver logs through: the runtime's Logger shape, plus the pino instance for flushing. */
export interface EtserverLogger extends Logger {
  /** The underlying pino logger. */
  readonly pino: pino.Logger;
}

/** How an error appears in a log record. */
export interface LoggedError {
  /** `error.name`, e.g. "TypeError". */
  readonly name: string;
  /** The constructor's name, as pino's err serializer reports it. */
  readonly type: string;
  /** The message, followed by the messages of its `cause` chain. */
  readonly message: string;
  /** The stack, followed by the stacks of its `cause` chain. */
  readonly stack: string;
  /** `error.code` when it is a string or a number (e.g. "ECONNREFUSED"). */
  readonly code?: string | number;
}

/**
 * Serializes an error for the log (SPEC §3.4: details are logged, never
 * sent) with pino's err serializer, keeping only name, type, message, stack
 * (each with the `cause` chain) and a scalar `code`. Other properties are
 * left out on purpose: client libraries attach request data to their errors
 * (ioredis puts the command and its arguments, a session token among them,
 * on `error.command`), and no secret may reach a log.
 */
export function serializeError(error: Error): LoggedError {
  const full = pino.stdSerializers.err(error);
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    type: full.type,
    message: full.message,
    stack: full.stack,
    ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
  };
}

/**
 * The `err` / `error` field as logged: an Error through {@link serializeError};
 * anything else (the runtime logs a close reason as text, a handler failure as
 * name, message and stack) as it is — pino's err serializer would write text as `{}`.
 */
function serializeLogged(value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}

/** `fields` with every Error value serialized by {@link serializeError}; pino would write an Error under any key but `err` as `{}`. */
function withSerializedErrors(fields: LogFields | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error) {
      out ??= { ...fields };
      out[key] = serializeError(value);
    }
  }
  return out ?? (fields as Record<string, unknown>);
}

/**
 * A pino logger writing JSON lines to stderr (stdout is kept for the
 * `etserver listening on …` line), adapted to the runtime's Logger
 * interface. An Error in any field is logged with its name, message and
 * stack ({@link serializeError}). Callers never pass secrets (passwords,
 * tokens) in fields.
 *
 * @param destination where records go; default stderr, written synchronously.
 */
export function createPinoLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): EtserverLogger {
  const logger = pino({ level, base: { pid: process.pid, name: "etserver" }, serializers: { err: serializeLogged, error: serializeLogged } }, destination);
  return {
    pino: logger,
    debug: (msg, fields) => logger.debug(withSerializedErrors(fields), msg),
    info: (msg, fields) => logger.info(withSerializedErrors(fields), msg),
    warn: (msg, fields) => logger.warn(withSerializedErrors(fields), msg),
    error: (msg, fields) => logger.error(withSerializedErrors(fields), msg),
  };
}
