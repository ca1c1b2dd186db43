/**
 * What every CLI command needs: global options and a lazily opened core. The
 * core (Prisma, the store) is imported on first use, so `--help` and usage
 * errors stay instant. Interrupted rollbacks are completed before any command.
 *
 * Remote mode: with --url (or SAFETYNET_URL without --data-dir) and a token, the
 * commands that support it call the server through @trpc/client instead of the
 * data directory (loaded only then); the others refuse, naming why.
 */
import os from "node:os";
import type { Command } from "commander";
import type { Core } from "../core";
import { loadConfig } from "../config";
import { InvalidInputError } from "../errors";
import type { RemoteTarget, SafetyNetClient } from "../mcp/client";
import { notice, type OutputMode } from "./io";
import { terminal } from "./terminal";

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

export interface CliContext {
  mode: OutputMode;
  actor: string;
  core(): Promise<Core>;
  /** The server the command talks to (--url / SAFETYNET_URL), or null: it works on the data directory. */
  remote: RemoteTarget | null;
  /** The server's client in remote mode (@trpc/client, loaded now); null in local mode. */
  remoteClient(): Promise<SafetyNetClient | null>;
  /** A client either way: the server's in remote mode, else the data directory's, recording `actor` in history. */
  client(actor?: string): Promise<SafetyNetClient>;
}

/**
 * Where a command works: a server when --url is given, or SAFETYNET_URL is set and
 * --data-dir is not (an explicit --data-dir means local); else the data directory.
 * A server needs a token (--token or SAFETYNET_TOKEN).
 */
export function remoteTargetOf(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): RemoteTarget | null {
  if (globals.url !== undefined && globals.dataDir !== undefined) {
    throw new InvalidInputError("--url and --data-dir exclude each other: a command works either on a server or on a data directory", { field: "--url" });
  }
  const url = globals.url ?? (globals.dataDir === undefined && env.SAFETYNET_URL ? env.SAFETYNET_URL : undefined);
  if (url === undefined) {
    if (globals.token !== undefined) throw new InvalidInputError("--token needs a server: pass --url (or set SAFETYNET_URL)", { field: "--token" });
    return null;
  }
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new InvalidInputError(`invalid --url: "${url}" is not an http(s) URL such as http://127.0.0.1:3000`, { field: "--url" });
  }
  const token = globals.token ?? env.SAFETYNET_TOKEN;
  if (!token) {
    throw new InvalidInputError(`the server ${url} needs a token: pass --token or set SAFETYNET_TOKEN (\`safetynet token create <name> --role agent\` on the server's data directory makes one)`, {
      field: "--token",
    });
  }
  return { url, token };
}

export function cliActor(): string {
  const hostedFor = terminal().actor;
  if (hostedFor) return hostedFor;
  if (process.env.SAFETYNET_ACTOR) return process.env.SAFETYNET_ACTOR;
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return "cli";
  }
}

let opened: Promise<Core> | undefined;

/**
 * The context of one command. `remote: true` marks a command that can talk to a
 * server; the others refuse to run when a server is configured (they would
 * otherwise silently work on a local data directory the user did not mean).
 */
export function contextFor(command: Command, options: { recoverFirst?: boolean; remote?: boolean; freshDatabase?: boolean; storeAsRecorded?: boolean } = {}): CliContext {
  const given = command.optsWithGlobals<GlobalOptions>();
  // A server running a command for a CLI works on its own data directory (the one whose socket the CLI used).
  const globals: GlobalOptions = terminal().dataDir ? { ...given, dataDir: terminal().dataDir ?? undefined } : given;
  const mode = { json: Boolean(globals.json) };
  const remote = remoteTargetOf(globals);
  if (remote && !options.remote) {
    throw new InvalidInputError(
      `\`safetynet ${commandPath(command)}\` works only on a local data directory, not against a server; drop --url (or pass --data-dir to override SAFETYNET_URL)`,
      { field: "--url" },
    );
  }
  const remoteClient = async (): Promise<SafetyNetClient | null> => {
    if (!remote) return null;
    const { RemoteClient } = await import("../mcp/remote-client");
    return new RemoteClient(remote);
  };
  const core = (): Promise<Core> => {
    opened ??= (async () => {
      const [{ openReadyCore }, { recoverAtStartup }] = await Promise.all([import("../core"), import("../rollback/recover")]);
      const config = loadConfig({ dataDir: globals.dataDir });
      // `store migrate` opens the objects where the data directory says they are, whatever SAFETYNET_OBJECT_STORE says.
      if (options.storeAsRecorded) delete config.objectStore;
      const core = await openReadyCore(config, { allowFreshDatabaseOverStore: options.freshDatabase });
      if (options.recoverFirst !== false) {
        for (const r of await recoverAtStartup(core, cliActor())) {
          if (r.outcome === "in-progress") continue;
          notice(
            r.outcome === "recovered"
              ? `safetynet: completed interrupted rollback ${r.rollbackId} of ${r.component} to ${r.checkpointId}`
              : `safetynet: could not complete interrupted rollback ${r.rollbackId}: ${r.error}${r.state ? `; ${r.state}` : ""}`,
          );
        }
      }
      return core;
    })();
    return opened;
  };
  return {
    mode,
    actor: cliActor(),
    core,
    remote,
    remoteClient,
    client: async (actor = cliActor()) => {
      const client = await remoteClient();
      if (client) return client;
      const { LocalClient } = await import("../mcp/local-client");
      return new LocalClient(core, actor, loadConfig({ dataDir: globals.dataDir }).dataDir);
    },
  };
}

/** "checkpoint create", "rollback": the command's words after `safetynet`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export async function closeCli(): Promise<void> {
  // A server keeps its database open for the next command.
  if (!opened || terminal().hosted) return;
  const core = await opened.catch(() => undefined);
  if (!core) return;
  // What the command downloaded (a restore, an export, a verify) counts against the bucket's cache bound.
  try {
    core.store.trimCache();
  } catch (error) {
    core.log.warn({ event: "cache.trim", error: error instanceof Error ? error.message : String(error) }, "the object cache was not trimmed");
  }
  core.store.bucket?.bucket.close();
  const { closeCore } = await import("../core");
  // Closes the lock space too: a PostgreSQL pool left open would keep the process alive.
  await closeCore(core.config.dataDir);
}
