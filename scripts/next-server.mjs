#!/usr/bin/env node
// The production web server: Next's request handler (the built app in .next)
// inside a Node HTTP server whose settings are ours rather than `next start`'s:
//   - every request carries the address of the socket it came from in
//     x-safetynet-peer-address (a value sent by the client is replaced), so
//     throttling keys on the real client (server/auth/client-address.ts);
//   - idle keep-alive connections are kept longer than clients keep them
//     (undici, behind Node's fetch, drops its own after 4 s; Python's requests and
//     most proxies within 60 s), so a client never sends a request on a socket the
//     server is closing at that moment; Node's default of 5 s made that race
//     reachable whenever the event loop was busy for a second. headersTimeout
//     is set above keepAliveTimeout, the usual advice for servers behind load balancers.
//   - request headers (the URL included) may take up to 64 KiB instead of Node's
//     16 KiB: @trpc/client's httpBatchLink sends a batch of queries as one GET with
//     every input in the URL and, by default, no length limit (maxURLLength), so a
//     batch of 50 or 100 calls with long inputs outgrows 16 KiB. Beyond 64 KiB the
//     answer is 431; such clients set maxURLLength (README, Agents).
//   - SIGTERM / SIGINT stop it within 10 s: no new connections, idle keep-alive
//     ones closed at once, requests in flight and the shutdown hooks the server
//     registered (its instance's job worker, its registration) given until the deadline (locks need
//     no cleanup: the operating system releases them with the process, and an
//     interrupted rollback is completed from its journal at the next start).
// Listens on HOST:PORT (default 127.0.0.1:3000). Run by scripts/start.mjs after
// the build; does not build itself.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";

const PEER_ADDRESS_HEADER = "x-safetynet-peer-address";
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const SHUTDOWN_DEADLINE_MS = 10_000;
const HEADERS_TIMEOUT_MS = 66_000;
const MAX_HEADER_BYTES = 64 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || "3000");

const app = next({ dev: false, dir: root, hostname: host, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
  req.headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? "unknown";
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("Internal Server Error");
  });
});
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
server.headersTimeout = HEADERS_TIMEOUT_MS;
server.on("error", (error) => {
  console.error(`safetynet: cannot serve on ${host}:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  process.stdout.write(`safetynet: serving on http://${host.includes(":") ? `[${host}]` : host}:${port}\n`);
});

// What the server registered to do before it exits (server/instances/runtime.ts: drain the
// job worker, mark the instance stopped), run beside the closing of connections.
const SHUTDOWN_HOOKS = Symbol.for("safetynet.shutdownHooks");
const runShutdownHooks = () => Promise.allSettled((globalThis[SHUTDOWN_HOOKS] ?? []).map((hook) => hook()));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    setTimeout(() => process.exit(signal === "SIGTERM" ? 143 : 130), SHUTDOWN_DEADLINE_MS).unref();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    Promise.all([closed, runShutdownHooks()]).then(() => process.exit(0));
  });
}
