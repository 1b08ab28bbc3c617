import pino from "pino";
import type { Logger } from "@dora/runtime";

/** Log levels etserver accepts (`log.level`). */
export type EtserverLogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** What etserver logs through: the runtime's Logger shape, plus the pino instance for flushing. */
export interface EtserverLogger extends Logger {
  /** The underlying pino logger. */
  readonly pino: pino.Logger;
}

/**
 * A pino logger writing JSON lines to stderr (stdout is kept for the
 * `etserver listening on …` line), adapted to the runtime's Logger
 * interface. Callers never pass secrets (passwords, tokens) in fields.
 */
export function createPinoLogger(level: EtserverLogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): EtserverLogger {
  const logger = pino({ level, base: { pid: process.pid, name: "etserver" } }, destination);
  return {
    pino: logger,
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}
