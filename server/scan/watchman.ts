/**
 * A small client of the Watchman daemon (the `fb-watchman` library: BSER over
 * the daemon's Unix socket). Watchman keeps its own view of a watched tree and
 * answers "what changed since clock C?"; when it cannot vouch for that answer
 * (the daemon restarted, the root was watched anew, the tree was recrawled after
 * the kernel dropped events), it says so. This module asks, and never trusts
 * more than the daemon vouches for:
 *
 *   - `since` returns `vouched: false` for a fresh instance (`is_fresh_instance`),
 *     a response carrying a warning (a recrawl: Watchman 4.9 then compares stats
 *     instead of saying so), and names it cannot hand over exactly: BSER names
 *     are bytes, and the client decodes them as UTF-8, so a byte that is not
 *     UTF-8 arrives as U+FFFD, which names nothing on disk;
 *   - every command has a time limit: a daemon that does not answer in time is
 *     dropped (the next command connects again, which starts the daemon again if
 *     it died), and the caller walks;
 *   - clocks and `since` queries are synced (`sync_timeout`): the daemon writes a
 *     cookie file in the root (or in its .git) and answers only once it has seen
 *     it, so every change made before the call is in the answer.
 *
 * Nothing here knows about components: server/scan/change-tracker.ts decides
 * what to watch and what an answer means for a scan.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import type { Client } from "fb-watchman";
import { hasEscapedBytes, unrepresentableReason } from "../byte-paths";

/** A watched path that changed, relative to the root, as Watchman last saw it. */
export interface WatchmanChange {
  name: string;
  exists: boolean;
  /** `f` file, `d` folder, `l` symlink, or another type letter (sockets, FIFOs, ...). */
  type: string;
}

export type SinceAnswer =
  | { vouched: true; clock: string; changes: WatchmanChange[] }
  /** The daemon cannot vouch for "since": everything may have changed (why says what happened). */
  | { vouched: false; clock: string; why: string };

/** A Watchman query expression (https://facebook.github.io/watchman/docs/expr/allof.html). */
export type WatchmanExpression = readonly unknown[];

export class WatchmanError extends Error {
  /** The daemon answered with an error (about this command); otherwise it could not be reached or did not answer. */
  readonly answered: boolean;
  constructor(message: string, options: { answered?: boolean } = {}) {
    super(message);
    this.answered = options.answered ?? false;
  }
}

export interface WatchmanOptions {
  /** The binary: a path, or a name looked up on PATH (default `watchman`). */
  binary?: string;
  /** How long one command may take before the daemon is given up on for this call. */
  timeoutMs?: number;
}

/** Each command's limit: the sync inside it (the daemon waiting for its cookie) gets most of it. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The binary to run, or null when there is none: `binary` with a slash must be an
 * executable file; a bare name is looked up on PATH.
 */
export function findWatchmanBinary(binary = "watchman", envPath = process.env.PATH ?? ""): string | null {
  const candidates = binary.includes("/") ? [path.resolve(binary)] : envPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there, or not executable: the next one
    }
  }
  return null;
}

type Response = Record<string, unknown>;
/** What the client says when the daemon went away under a command. */
const LOST_CONNECTION = /connection was closed|client was ended|ECONNRESET|EPIPE|ECONNREFUSED|ENOENT/;
/** Pauses before sending a command again on a new connection: a daemon being shut down still holds its socket for a moment. */
const RECONNECT_DELAYS_MS = [0, 100, 400];
/** The client's `command`, untyped: its typings list only some commands. */
type RawCommand = (args: readonly unknown[], done: (error: Error | null, response: unknown) => void) => void;

export class Watchman {
  private client: Client | null = null;
  private readonly timeoutMs: number;

  private constructor(
    private readonly ClientClass: typeof Client,
    readonly binary: string,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
  }

  /** A client of the daemon behind `binary`; null when no such binary is installed. Connects on first use. */
  static async open(options: WatchmanOptions = {}): Promise<Watchman | null> {
    const binary = findWatchmanBinary(options.binary);
    if (!binary) return null;
    // Loaded on first use: a process that never watches (the CLI) never loads it.
    const loaded = (await import("fb-watchman")) as unknown as { Client?: typeof Client; default?: { Client: typeof Client } };
    const ClientClass = loaded.Client ?? loaded.default?.Client;
    if (!ClientClass) throw new WatchmanError("the fb-watchman module has no Client");
    return new Watchman(ClientClass, binary, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** The daemon's version (starts it when it is not running). */
  async version(): Promise<string> {
    const response = await this.command(["version"]);
    return String(response.version ?? "unknown");
  }

  /** Watches `root` (an absolute real path); watching a watched root again is a no-op. */
  async watch(root: string): Promise<void> {
    const response = await this.command(["watch", nameable(root)]);
    if (typeof response.watch !== "string") throw new WatchmanError(`watchman did not watch ${root}: ${JSON.stringify(response)}`);
  }

  /** The root's clock now, once every change made before the call has been seen. */
  async clock(root: string): Promise<string> {
    const response = await this.command(["clock", nameable(root), { sync_timeout: this.syncTimeout() }]);
    return clockOf(response);
  }

  /**
   * What changed under `root` since `clock`, among the paths `expression` selects
   * (every path when it is omitted). A fresh instance answers no list: the daemon
   * knows nothing of that clock, so the caller must look at everything.
   */
  async since(root: string, clock: string, expression?: WatchmanExpression): Promise<SinceAnswer> {
    const query: Record<string, unknown> = {
      since: clock,
      fields: ["name", "exists", "type"],
      empty_on_fresh_instance: true,
      sync_timeout: this.syncTimeout(),
    };
    if (expression) query.expression = expression;
    const response = await this.command(["query", nameable(root), query]);
    const now = clockOf(response);
    if (response.is_fresh_instance === true) return { vouched: false, clock: now, why: "a fresh instance (the daemon or the watch started anew)" };
    if (typeof response.warning === "string") return { vouched: false, clock: now, why: `a warning: ${response.warning.split("\n")[0]}` };
    if (!Array.isArray(response.files)) throw new WatchmanError(`watchman answered no file list: ${JSON.stringify(response).slice(0, 200)}`);
    const changes: WatchmanChange[] = [];
    for (const file of response.files as unknown[]) {
      const change = file as Partial<WatchmanChange> | null;
      if (!change || typeof change.name !== "string" || typeof change.exists !== "boolean" || typeof change.type !== "string") {
        throw new WatchmanError(`watchman answered a malformed file entry: ${JSON.stringify(file)}`);
      }
      // A name that was not UTF-8 was decoded with U+FFFD in place of its bytes: it names nothing on disk.
      if (change.name.includes("\ufffd")) return { vouched: false, clock: now, why: "a changed name that is not UTF-8 (Watchman's client cannot hand it over exactly)" };
      changes.push({ name: change.name, exists: change.exists, type: change.type });
    }
    return { vouched: true, clock: now, changes };
  }

  /** Stops watching `root` (nothing when it is not watched). */
  async unwatch(root: string): Promise<void> {
    try {
      await this.command(["watch-del", nameable(root)]);
    } catch (error) {
      if (error instanceof WatchmanError && /not watched/.test(error.message)) return;
      throw error;
    }
  }

  /** The roots the daemon watches (for every client of it, not only this one). */
  async watchList(): Promise<string[]> {
    const response = await this.command(["watch-list"]);
    return Array.isArray(response.roots) ? response.roots.filter((r): r is string => typeof r === "string") : [];
  }

  /**
   * Stops watching `roots` without waiting on the event loop (for a process that is
   * exiting, or a daemon that may not answer): one `watch-del` each through the
   * binary, which never starts a daemon for it, each bounded by the time limit.
   */
  unwatchSync(roots: readonly string[], options: { timeoutMs?: number } = {}): void {
    for (const root of roots) {
      try {
        spawnSync(this.binary, ["--no-spawn", "--no-pretty", "watch-del", nameable(root)], { stdio: "ignore", timeout: options.timeoutMs ?? this.timeoutMs });
      } catch {
        // Best effort: a watch left behind is reaped by the daemon once idle.
      }
    }
  }

  /** Drops the connection (pending commands fail); the next command connects again. */
  close(): void {
    const client = this.client;
    this.client = null;
    client?.removeAllListeners();
    // A late 'error' from a connection being torn down must not become an uncaught exception.
    client?.on("error", () => undefined);
    client?.end();
  }

  private syncTimeout(): number {
    return Math.max(100, Math.floor(this.timeoutMs * 0.8));
  }

  private connection(): Client {
    if (this.client) return this.client;
    const client = new this.ClientClass({ watchmanBinaryPath: this.binary });
    // An 'error' (the binary failed, the socket broke) or 'end' (the daemon went away): the next command connects anew.
    const drop = () => {
      if (this.client === client) this.close();
    };
    client.on("error", drop);
    client.on("end", drop);
    this.client = client;
    return client;
  }

  /**
   * Sends one command. A connection the daemon closed (it was shut down or
   * restarted since the last command) is noticed only when used: the command is
   * sent again on a new connection, which starts the daemon again. A daemon in the
   * middle of shutting down refuses that too, so it is tried a few times, briefly
   * apart, before the caller hears that the daemon cannot be reached.
   */
  private async command(args: unknown[]): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(args);
      } catch (error) {
        const delay = RECONNECT_DELAYS_MS[attempt];
        if (delay === undefined || !(error instanceof WatchmanError) || !LOST_CONNECTION.test(error.message)) throw error;
        this.close();
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private send(args: unknown[]): Promise<Response> {
    const client = this.connection();
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // A daemon that does not answer holds every later command behind this one: start over.
        if (this.client === client) this.close();
        reject(new WatchmanError(`watchman did not answer ${String(args[0])} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      try {
        const send = client.command.bind(client) as unknown as RawCommand;
        send(args, (error, response) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(new WatchmanError(`watchman ${String(args[0])} failed: ${error.message}`, { answered: "watchmanResponse" in error }));
          else if (response === null || typeof response !== "object") reject(new WatchmanError(`watchman ${String(args[0])} answered ${String(response)}`));
          else resolve(response as Response);
        });
      } catch (error) {
        settled = true;
        clearTimeout(timer);
        if (this.client === client) this.close();
        reject(new WatchmanError(`watchman ${String(args[0])} failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  }
}

function clockOf(response: Response): string {
  if (typeof response.clock !== "string") throw new WatchmanError(`watchman answered no clock: ${JSON.stringify(response).slice(0, 200)}`);
  return response.clock;
}

/** A root the daemon can be told about: its name must be text (BSER sends it as UTF-8). */
function nameable(root: string): string {
  if (root.includes("\ufffd") || hasEscapedBytes(root) || unrepresentableReason(root) !== undefined) throw new WatchmanError(`watchman cannot be told about ${JSON.stringify(root)}: its name is not UTF-8`);
  return root;
}
