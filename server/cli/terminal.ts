/**
 * Where a CLI command writes and what it knows about its caller's terminal. A
 * command run by `safetynet` itself uses the process's own streams; a command a
 * CLI handed to a running server over its local socket runs inside the server
 * with a terminal that sends everything back to that CLI (server/api/local-socket.ts).
 * AsyncLocalStorage keeps concurrent commands in one server apart.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface TextSink {
  write(text: string): void;
}

export interface Terminal {
  stdout: TextSink;
  stderr: TextSink;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Set by commands that end with a code other than 0 without throwing. */
  exitCode: number | undefined;
  /** Who runs the command (recorded in history): `cli:<user>`. */
  actor: string | null;
  /** The data directory to work on, when fixed by whoever runs the command (a server runs commands on its own). */
  dataDir: string | null;
  /** Inside a long-running server: shared resources (the database) stay open after the command. */
  hosted: boolean;
  /** The command's stdin, when whoever started it has read it already (the bin before handing `hook` to a server); null: read process.stdin. */
  stdinText: string | null;
}

/**
 * One of the process's own streams. Once its reader has gone (EPIPE: `| head`, a
 * closed terminal), the rest of the output is dropped and the command runs to its
 * end: stopping a rollback half-way because nobody reads its output any more would
 * be far worse than output nobody reads.
 */
function processSink(stream: NodeJS.WriteStream): TextSink {
  let readerGone = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    readerGone = true;
  });
  return {
    write(text) {
      if (!readerGone) stream.write(text);
    },
  };
}

const processTerminal: Terminal = {
  stdout: processSink(process.stdout),
  stderr: processSink(process.stderr),
  get stdinIsTTY() {
    return Boolean(process.stdin.isTTY);
  },
  get stderrIsTTY() {
    return Boolean(process.stderr.isTTY);
  },
  get exitCode() {
    return typeof process.exitCode === "number" ? process.exitCode : undefined;
  },
  set exitCode(code: number | undefined) {
    process.exitCode = code;
  },
  actor: null,
  dataDir: null,
  hosted: false,
  stdinText: null,
};

const current = new AsyncLocalStorage<Terminal>();

/** The stdin text the bin has read already (it tried a server first), for this process's commands. */
export function setProcessStdinText(text: string): void {
  processTerminal.stdinText = text;
}

export function terminal(): Terminal {
  return current.getStore() ?? processTerminal;
}

export function runInTerminal<T>(t: Terminal, fn: () => Promise<T>): Promise<T> {
  return current.run(t, fn);
}
