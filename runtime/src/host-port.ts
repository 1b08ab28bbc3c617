/**
 * `HOST:PORT` addresses, parsed one way for the client's `address` option
 * and for applications (`@dora/runtime/config` exports it).
 */

/** An address split into its host and port. */
export interface HostPort {
  /** A name, an IPv4 address or an IPv6 address without its brackets; "" when the address starts with the colon. */
  readonly host: string;
  /** 0..65535. */
  readonly port: number;
}

/**
 * Splits `HOST:PORT`, where an IPv6 host is written in brackets
 * (`[::1]:8443`) and the port is a decimal from 0 to 65535. The host may be
 * empty (`:8443`); whether an empty host or port 0 is acceptable is the
 * caller's rule. Returns undefined for anything else (`::1:80`, `h:70000`,
 * `h:`, a space).
 */
export function parseHostPort(address: string): HostPort | undefined {
  const match = /^(?:\[([^\]\s]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? "", port };
}
