/**
 * A TCP proxy that can lose the network on demand: while cut, every connection
 * through it is reset and new ones are refused (closed at once), the way a host
 * that lost its network sees its database; restored, it passes everything
 * through again.
 */
import net from "node:net";
import { listenOnLoopback } from "./loopback-server";

export interface CuttableProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  let cut = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listening = await listenOnLoopback(server);
  return {
    port: listening.port,
    cut: () => {
      cut = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    restore: () => {
      cut = false;
    },
    close: () => listening.close(),
  };
}
