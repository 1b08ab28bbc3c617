/**
 * A client that calls a server's handlers in the same process, without a
 * socket: for unit tests of services and interceptors (SPEC §4).
 */
import { DoraClient, type Client } from "./client.js";
import type { CommonClientOptions } from "./client-options.js";
import { ClientConnection, type Dialer } from "./client-connection.js";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import type { Peer } from "./handler-context.js";
import { InProcessChannel, joinChannels } from "./in-process-channel.js";
import { silentLogger } from "./logger.js";
import { callConfig, DEFAULTS } from "./options.js";
import { DoraServer, type Server } from "./server.js";

/** Options of {@link createInProcessClient}: those of every client, and the peer the server sees. */
export interface InProcessClientOptions extends CommonClientOptions {
  /** The peer handlers and interceptors see. Default address `"in-process"`, port 0, no certificate. */
  peer?: Partial<Peer>;
}

/**
 * Creates a client whose calls reach `server`'s handlers in this process, on
 * the same path as calls from the network minus the socket: requests and
 * answers are encoded into frames and envelopes with the same codecs, both
 * sides' interceptors run, deadlines travel as `dora-timeout`, metadata and
 * errors arrive as a remote client would see them, and limits
 * (`maxFrameBytes`, `maxConcurrentCalls`, …) apply. The server need not
 * listen. Use it with generated clients to unit-test handlers:
 *
 * ```ts
 * const server = createServer();
 * registerKvService(server, handler);
 * const kv = createKvServiceClient(createInProcessClient(server));
 * expect((await kv.login({ username: "1", password: "1" })).status).toBe(LoginStatus.SUCCESS);
 * ```
 */
export function createInProcessClient(server: Server, options: InProcessClientOptions = {}): Client {
  if (!(server instanceof DoraServer)) throw new TypeError("createInProcessClient: server must be made by createServer");
  const config = callConfig(options);
  const peer: Peer = { address: options.peer?.address ?? "in-process", port: options.peer?.port ?? 0, certificate: options.peer?.certificate };
  const dialer: Dialer = {
    label: "in-process",
    tls: false,
    dial(listener: FrameListener): FrameChannel {
      const client = new InProcessChannel(listener, config.maxFrameBytes);
      const accepted = server.acceptChannel(peer, (serverListener) => {
        const end = new InProcessChannel(serverListener, server.config.transport.maxFrameBytes);
        joinChannels(client, end);
        return end;
      });
      if (accepted === undefined) client.shut(new Error("the server is shutting down"));
      else process.nextTick(() => listener.onOpen());
      return client;
    },
  };
  const connection = new ClientConnection(dialer, {
    logger: options.logger ?? silentLogger,
    connectTimeoutMs: DEFAULTS.connectTimeoutMs,
    probeTimeoutMs: DEFAULTS.probeTimeoutMs,
    reconnectInitialMs: DEFAULTS.reconnectInitialMs,
    reconnectMaxMs: DEFAULTS.reconnectMaxMs,
  });
  return new DoraClient(config, options, [connection]);
}
