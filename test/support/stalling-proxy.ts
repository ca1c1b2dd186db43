/**
 * A TCP proxy in front of the test PostgreSQL server that makes one client hang:
 * connections whose startup message names `application` (libpq sends its
 * program's name, e.g. "pg_dump") are passed through until the server has
 * answered the login (ReadyForQuery), and from then on get no more answers, so
 * that client waits, connected, for as long as the proxy runs: a slow network,
 * made certain. Every other connection is passed through untouched. Give the
 * URL sslmode=disable: the startup message must be readable.
 */
import net from "node:net";
import { listenOnLoopback } from "./loopback-server";

export interface StallingProxy {
  port: number;
  /** Connections stalled so far. */
  stalled(): number;
  close(): Promise<void>;
}

/** Splits server messages (type byte, int32 length including itself) and reports whether ReadyForQuery ('Z') has passed. */
function readyForQueryWatcher(): (chunk: Buffer) => number {
  let pending = Buffer.alloc(0);
  let offset = 0;
  let seen = false;
  // Returns how many bytes of `chunk` may still go to the client (all, until just after the first ReadyForQuery).
  return (chunk) => {
    if (seen) return 0;
    const start = pending.length;
    pending = Buffer.concat([pending, chunk]);
    while (pending.length - offset >= 5) {
      const type = String.fromCharCode(pending[offset] as number);
      const length = pending.readInt32BE(offset + 1);
      if (pending.length - offset < 1 + length) break;
      offset += 1 + length;
      if (type === "Z") {
        seen = true;
        return offset - start;
      }
    }
    return chunk.length;
  };
}

export async function startStallingProxy(target: { host: string; port: number }, application: string): Promise<StallingProxy> {
  let stalled = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) socket.on("error", () => undefined);
    let decided = false;
    let allowed: ((chunk: Buffer) => number) | null = null;
    client.on("data", (chunk: Buffer) => {
      // The first message that is not an SSL or GSS encryption request (8 bytes) is the startup message.
      const negotiation = chunk.length === 8 && [80877103, 80877104].includes(chunk.readInt32BE(4));
      if (!decided && !negotiation) {
        decided = true;
        if (chunk.includes(Buffer.from(`${application}\0`))) {
          allowed = readyForQueryWatcher();
          stalled++;
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      const passing = allowed ? allowed(chunk) : chunk.length;
      if (passing > 0) client.write(chunk.subarray(0, passing));
    });
    // Closing the proxy destroys the client side; the upstream side follows it.
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listening = await listenOnLoopback(server);
  return { port: listening.port, stalled: () => stalled, close: listening.close };
}
