/**
 * The agents' hook fast path. A hook runs before every step of the agent, so its
 * process start is paid on every tool call, and a Node process alone takes longer
 * to start than the checkpoint it asks for. The command `hooks install` writes is
 * `bin/safetynet-hook`, a POSIX shell script that posts the agent's event here with
 * curl (a few milliseconds to start); the server runs `safetynet hook <agent>`
 * in-process, as it does for the CLI on server.sock.
 *
 *   POST /hook/<agent>   body: the agent's event; header x-safetynet-actor: cli:<user>
 *   200                  body: the hook's stderr (one line, possibly empty), "\n", then its stdout verbatim
 *
 * Any other answer, or none, makes the script run the Node CLI with the event
 * instead, so a server that is stopping or too old costs time, never the checkpoint.
 */
import http from "node:http";
import path from "node:path";
import { isLocalActor, listenOwnerOnly, runHostedCommand, type LocalSocketOptions } from "./local-socket";

export const HOOK_SOCKET_NAME = "hook.sock";

/** Larger than any event an agent sends (a Write carries the file's content), small enough to refuse a runaway client. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function readEvent(req: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_EVENT_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function serveHook(req: http.IncomingMessage, res: http.ServerResponse, options: LocalSocketOptions): Promise<void> {
  const agent = req.method === "POST" ? /^\/hook\/([a-z-]{1,32})$/.exec(req.url ?? "")?.[1] : undefined;
  if (agent === undefined) return reply(res, 404, "POST /hook/<agent> only\n");
  const actor = req.headers["x-safetynet-actor"];
  if (!isLocalActor(actor)) return reply(res, 400, "x-safetynet-actor must be cli:<user name>\n");
  const event = await readEvent(req);
  if (event === null) return reply(res, 413, `an event is at most ${MAX_EVENT_BYTES} bytes\n`);
  let stdout = "";
  let stderr = "";
  const sink = { out: (text: string) => void (stdout += text), err: (text: string) => void (stderr += text) };
  const code = await runHostedCommand({ argv: ["hook", agent], actor, stdinIsTTY: false, stdin: event }, options, sink, HOOK_SOCKET_NAME);
  // The hook exits 0 whatever happened; anything else is left to the Node CLI to report in full.
  if (code !== 0) return reply(res, 500, `the hook exited ${code}\n`);
  reply(res, 200, stderr.trim().replace(/\s*\n\s*/g, " ") + "\n" + stdout);
}

/** Starts the hook socket; resolves with a stop function, or null when another server already answers there. */
export async function startHookSocket(options: LocalSocketOptions): Promise<(() => void) | null> {
  const server = http.createServer((req, res) => {
    serveHook(req, res, options).catch((error: unknown) => {
      options.log.error({ event: "hook-socket", error: error instanceof Error ? error.message : String(error) }, "an agent's hook failed on the server");
      if (!res.headersSent) reply(res, 500, "the hook failed on the server\n");
      else res.destroy();
    });
  });
  const socketPath = path.join(options.dataDir, HOOK_SOCKET_NAME);
  const stop = await listenOwnerOnly(server, socketPath, options.log);
  if (stop) options.log.info({ event: "hook-socket", socket: socketPath }, "agents' hooks are served on this data directory's hook socket");
  return stop;
}
