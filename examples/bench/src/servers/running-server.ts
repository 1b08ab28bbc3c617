import type { Server, Socket } from "node:net";

/** A server of the comparison, listening on 127.0.0.1. */
export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, ends its connections and resolves once closed. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 on a free port and returns the running server; its
 * `close` destroys the open connections and resolves once the server has
 * closed. Works for `net` and `http2` servers (both emit `connection`).
 */
export async function listenOnLoopback(server: Server): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no TCP address");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
