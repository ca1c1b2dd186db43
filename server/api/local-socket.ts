/**
 * The warm path: while a server runs on a data directory, a local CLI hands its
 * command to it over `<data dir>/server.sock` (mode 0600 inside the 0700 data
 * directory: only the same user reaches it) instead of starting up, opening the
 * database and scanning from cold. The server runs the very same CLI program on
 * its own data directory, in-process, with a terminal that sends the output back;
 * the results, exit codes and history actor (`cli:<user>`) are those of running
 * it directly.
 *
 * Protocol (one command per connection, newline-delimited JSON):
 *   CLI -> server   {"argv": [...], "actor": "cli:alice", "stdinIsTTY": false[, "stdin": "..."]}
 *   server -> CLI   {"started": true}, then {"out": "..."} / {"err": "..."} ..., then {"exit": 0}
 * A CLI that sees the connection end before "started" runs the command itself.
 * `stdin` carries the CLI's whole stdin for the one command that reads it
 * (`hook`: the agent's event); it is never logged.
 */
import net from "node:net";
import { rmSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";

export const SOCKET_NAME = "server.sock";

export interface LocalSocketOptions {
  dataDir: string;
  log: Logger;
}

export interface CommandRequest {
  argv: string[];
  actor: string;
  stdinIsTTY: boolean;
  stdin: string | null;
}

/** The history actor a local client may claim: `cli:` and its user name. */
export function isLocalActor(value: unknown): value is string {
  return typeof value === "string" && /^cli:[\w.@-]{1,64}$/.test(value);
}

function parseRequest(line: string): CommandRequest | null {
  try {
    const value = JSON.parse(line) as Partial<CommandRequest>;
    if (!Array.isArray(value.argv) || !value.argv.every((a) => typeof a === "string") || !isLocalActor(value.actor)) return null;
    if (value.stdin !== undefined && value.stdin !== null && typeof value.stdin !== "string") return null;
    return { argv: value.argv, actor: value.actor, stdinIsTTY: value.stdinIsTTY === true, stdin: value.stdin ?? null };
  } catch {
    return null;
  }
}

/** Is another live server already answering on this socket? */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** Where a command run for a local client writes its output. */
export interface CommandSink {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs one CLI command in this process for a local client (this server's data
 * directory, the client's actor and stdin), its output going to `sink`; resolves
 * with its exit code. Logged without the stdin, which may hold an agent's prompt.
 */
export async function runHostedCommand(request: CommandRequest, options: LocalSocketOptions, sink: CommandSink, via: string): Promise<number> {
  const [{ main }, { runInTerminal }] = await Promise.all([import("../cli/main"), import("../cli/terminal")]);
  options.log.info({ event: "local-socket.command", argv: request.argv, actor: request.actor, via }, "running a command for the local CLI");
  const terminal = {
    stdout: { write: (text: string) => sink.out(text) },
    stderr: { write: (text: string) => sink.err(text) },
    stdinIsTTY: request.stdinIsTTY,
    stderrIsTTY: false,
    exitCode: undefined as number | undefined,
    actor: request.actor,
    dataDir: options.dataDir,
    hosted: true,
    stdinText: request.stdin,
  };
  return runInTerminal(terminal, () => main(request.argv));
}

async function serveCommand(connection: net.Socket, request: CommandRequest, options: LocalSocketOptions): Promise<void> {
  const send = (message: object) => {
    if (!connection.destroyed) connection.write(JSON.stringify(message) + "\n");
  };
  // Loaded before "started": a client that sees the connection end before it runs the command itself.
  await Promise.all([import("../cli/main"), import("../cli/terminal")]);
  send({ started: true });
  const code = await runHostedCommand(request, options, { out: (text) => send({ out: text }), err: (text) => send({ err: text }) }, SOCKET_NAME);
  send({ exit: code });
  connection.end();
}

/**
 * Listens on `socketPath` (created 0600: only this user reaches it) unless another
 * live server already answers there; resolves with a stop function, or null then.
 */
export async function listenOwnerOnly(server: net.Server, socketPath: string, log: Logger): Promise<(() => void) | null> {
  if (await answers(socketPath)) {
    log.warn({ event: "local-socket", socket: socketPath }, "another server already answers on this data directory's socket; clients will talk to that one");
    return null;
  }
  // A socket file left by a server that died.
  rmSync(socketPath, { force: true });
  // The umask applies to the socket file bind() makes.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  server.unref();
  const stop = () => {
    server.close();
    rmSync(socketPath, { force: true });
  };
  process.once("exit", stop);
  return stop;
}

/** Starts the socket server; resolves with a stop function, or null when another server already answers there. */
export async function startLocalSocket(options: LocalSocketOptions): Promise<(() => void) | null> {
  const socketPath = path.join(options.dataDir, SOCKET_NAME);
  const server = net.createServer((connection) => {
    let buffered = "";
    connection.setEncoding("utf8");
    connection.on("error", () => undefined);
    connection.on("data", (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline < 0) {
        if (buffered.length > 1_000_000) connection.destroy();
        return;
      }
      const request = parseRequest(buffered.slice(0, newline));
      buffered = "";
      connection.removeAllListeners("data");
      if (!request) {
        connection.end(JSON.stringify({ error: "malformed request" }) + "\n");
        return;
      }
      serveCommand(connection, request, options).catch((error: unknown) => {
        options.log.error({ event: "local-socket", error: error instanceof Error ? error.message : String(error) }, "a command from the local CLI failed");
        connection.destroy();
      });
    });
  });
  const stop = await listenOwnerOnly(server, socketPath, options.log);
  if (!stop) return null;
  options.log.info({ event: "local-socket", socket: socketPath }, "local CLI commands are served on this data directory's socket");
  return stop;
}
