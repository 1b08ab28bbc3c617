/**
 * The logging seam of the runtime. The server and client log through a
 * `Logger`; applications adapt their own (pino, winston, …) to this shape.
 * The runtime never puts secrets or payloads in fields.
 */
/** The level names, lowest first; `silent` drops everything. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** A level name; `silent` drops everything. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of a record. */
export type LogFields = Record<string, unknown>;

/** A levelled logger: one method per level, each taking a message and optional fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Parses a log level name; an unknown name throws an error naming the value and the accepted ones. */
export function parseLogLevel(value: string): LogLevel {
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`invalid log level ${JSON.stringify(value)}: expected one of ${LOG_LEVELS.join(", ")}`);
}

const noop = (): void => {};

/**
 * A logger that drops every record: the default of clients; give it to a
 * server to turn off its default logging of handler failures.
 */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export interface ConsoleLoggerOptions {
  /** Records below this level are dropped. Default "info". */
  level?: LogLevel;
  /** Where lines go. Default process.stdout. */
  stream?: { write(line: string): unknown };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out["code"] = code;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/**
 * A logger writing one line per record: `<ISO time> <LEVEL> <msg> <fields as JSON>`.
 * Errors in fields are written as their name, message and code (no stack).
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const stream = options.stream ?? process.stdout;
  const make = (level: Exclude<LogLevel, "silent">) => {
    if (RANK[level] < min) return noop;
    const tag = level.toUpperCase();
    return (msg: string, fields?: LogFields): void => {
      let line = `${new Date().toISOString()} ${tag} ${msg}`;
      if (fields !== undefined && Object.keys(fields).length > 0) {
        let json: string;
        try {
          json = JSON.stringify(fields, replacer);
        } catch {
          json = '{"fields":"unserializable"}';
        }
        line += ` ${json}`;
      }
      stream.write(line + "\n");
    };
  };
  return { debug: make("debug"), info: make("info"), warn: make("warn"), error: make("error") };
}

/**
 * The logger of a server created without one (SPEC §4): error level, to
 * stderr, so a handler failure always leaves a trace.
 */
export function createDefaultServerLogger(): Logger {
  return createConsoleLogger({ level: "error", stream: process.stderr });
}

/**
 * The fields that describe a thrown value in a log record: its name, message
 * and stack (and `code` when it has one). Nothing else of it is logged, so no
 * request data or metadata rides along.
 */
export function errorFields(error: unknown): { name: string; message: string; stack?: string; code?: unknown } {
  if (error instanceof Error) {
    const out: { name: string; message: string; stack?: string; code?: unknown } = { name: error.name, message: error.message };
    if (error.stack !== undefined) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  return { name: typeof error, message: String(error) };
}
