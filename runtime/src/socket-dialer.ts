/**
 * Opens a client connection's socket, TCP or TLS, as a nap channel.
 * Internal module.
 */
import net from "node:net";
import tls from "node:tls";
import type { ClientTlsOptions } from "./client-options.js";
import type { Dialer } from "./client-connection.js";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import { NapConnection, type NapConnectionOptions } from "./nap-connection.js";
import type { TransportOptions } from "./options.js";

/** A dialer of `host:port`, with TLS when `tlsOptions` is given. */
export function createSocketDialer(address: { host: string; port: number }, transport: TransportOptions, tlsOptions: ClientTlsOptions | undefined): Dialer {
  const { host, port } = address;
  // A client keeps reading while its writes are blocked: it must read answers to make progress.
  const options: NapConnectionOptions = { ...transport, pauseReadsWhileBlocked: false };
  return {
    label: `${host}:${port}`,
    tls: tlsOptions !== undefined,
    clientCert: tlsOptions?.cert,
    dial(listener: FrameListener): FrameChannel {
      let socket: net.Socket;
      if (tlsOptions !== undefined) {
        const t = tlsOptions;
        const servername = t.servername ?? (net.isIP(host) === 0 ? host : undefined);
        socket = tls.connect({
          host,
          port,
          ...(t.ca !== undefined ? { ca: t.ca } : {}),
          ...(t.cert !== undefined ? { cert: t.cert } : {}),
          ...(t.key !== undefined ? { key: t.key } : {}),
          ...(servername !== undefined ? { servername } : {}),
          rejectUnauthorized: t.rejectUnauthorized ?? true,
        });
        socket.once("secureConnect", () => listener.onOpen());
      } else {
        socket = net.connect({ host, port, noDelay: true });
        socket.once("connect", () => listener.onOpen());
      }
      return new NapConnection(socket, options, listener);
    },
  };
}
