/**
 * A test server (a proxy, a fake service) listening on 127.0.0.1 at a free port.
 * close() ends every connection still open, so that a client a test left
 * connected (or a proxy's held request) cannot keep the run alive.
 */
import type net from "node:net";

export interface LoopbackServer {
  port: number;
  close(): Promise<void>;
}

export function listenOnLoopback(server: net.Server): Promise<LoopbackServer> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
