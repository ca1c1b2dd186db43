#!/usr/bin/env node
// Runs the precompiled CLI bundle (built by `npm run build:cli`, also on install).
//
// Warm path: when a Safety Net server runs on the data directory, the commands an
// agent runs all day (checkpoint, diff, rollback --yes, lists, history) are handed
// to it over <data dir>/server.sock instead: this file then loads nothing but
// Node's own net module, and the server answers from its open database and warm
// caches (server/api/local-socket.ts). Anything else, or no server, runs here.
import { existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { enterCurrentBuild } from "../scripts/cli-builds.mjs";

const argv = process.argv.slice(2);

// Once nobody reads the output any more (EPIPE: `| head`), the rest is dropped and the
// command still runs to its end with its own exit code: a rollback must not stop half-way
// because its reader went away.
const readerGone = new Set();
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") throw error;
    readerGone.add(stream);
  });
}
const writeTo = (stream, text) => {
  if (!readerGone.has(stream)) stream.write(text);
};

// Only Safety Net's own options count: a `--json` after `--` belongs to a guarded command.
const separator = argv.indexOf("--");
const json = (separator === -1 ? argv : argv.slice(0, separator)).includes("--json");

/** A failure this file reports itself: with --json as the one JSON object on stdout (the CLI's error shape), else on stderr. */
function fail(message, details) {
  if (json) writeTo(process.stdout, JSON.stringify({ error: { code: "FAILED", message, details } }, null, 2) + "\n");
  else writeTo(process.stderr, `safetynet: ${message}\n`);
  return 1;
}

/** Commands a server may run for this CLI: no prompt, no path of the caller's to resolve. */
const HANDED_OVER = {
  checkpoint: new Set(["create", "list", "show", "diff", "verify", "pin", "unpin"]),
  component: new Set(["list", "show"]),
  rollback: null,
  history: null,
  log: null,
  sessions: null,
  // An agent's hook: run before every step, so the warm path matters most here. Its stdin (the event) goes along.
  hook: null,
};
const GLOBAL_WITH_VALUE = new Set(["--data-dir", "--url", "--token"]);

/** The data directory and the argv to send, when the command can be handed to a server; else null. */
function handOver() {
  if (process.env.SAFETYNET_NO_SERVER === "1") return null;
  let dataDir = process.env.SAFETYNET_DATA_DIR;
  const words = [];
  const forwarded = [];
  let remote = Boolean(process.env.SAFETYNET_URL);
  let explicitDataDir = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return null;
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (GLOBAL_WITH_VALUE.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) return null;
      if (name === "--data-dir") {
        dataDir = value;
        explicitDataDir = true;
      } else remote = true;
      continue;
    }
    if (!arg.startsWith("-")) words.push(arg);
    forwarded.push(arg);
  }
  if (remote && !explicitDataDir) return null;
  const [command, sub] = words;
  if (!(command in HANDED_OVER)) return null;
  const subs = HANDED_OVER[command];
  if (subs && !subs.has(sub)) return null;
  // A rollback that would ask y/N on this terminal is asked here.
  if (command === "rollback" && process.stdin.isTTY && !argv.includes("--yes") && !argv.includes("--dry-run") && !argv.includes("--json")) return null;
  const dir = path.resolve(dataDir || ".safetynet");
  const socket = path.join(dir, "server.sock");
  return existsSync(socket) ? { socket, argv: forwarded, words } : null;
}

/** All of stdin (the hook's event), read before the command is offered to a server. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function user() {
  try {
    return os.userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Runs the command on the server; resolves with its exit code, or null when no server took it (run it here). */
function runOnServer({ socket, argv: forwarded, words }, stdin) {
  return new Promise((resolve) => {
    const connection = net.connect(socket);
    let started = false;
    let printed = false;
    let buffered = "";
    let code = null;
    connection.setEncoding("utf8");
    connection.on("connect", () => {
      const actor = process.env.SAFETYNET_ACTOR || `cli:${user()}`;
      connection.write(JSON.stringify({ argv: forwarded, actor, stdinIsTTY: Boolean(process.stdin.isTTY), ...(stdin === null ? {} : { stdin }) }) + "\n");
    });
    connection.on("data", (chunk) => {
      buffered += chunk;
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        let message;
        try {
          message = JSON.parse(buffered.slice(0, newline));
        } catch {
          // Not our server's protocol: treated as a server that went away.
          connection.destroy();
          return;
        }
        buffered = buffered.slice(newline + 1);
        if (message.started) started = true;
        else if (typeof message.out === "string") {
          printed = true;
          writeTo(process.stdout, message.out);
        } else if (typeof message.err === "string") writeTo(process.stderr, message.err);
        else if (typeof message.exit === "number") code = message.exit;
      }
    });
    connection.on("error", () => undefined);
    connection.on("close", () => {
      if (code !== null) return resolve(code);
      if (!started) return resolve(null);
      // A hook must never fail the agent's step: it runs here instead (a second checkpoint at worst), unless its answer is out already.
      if (words[0] === "hook") return resolve(printed ? 0 : null);
      resolve(serverWentAway(words, printed));
    });
  });
}

/**
 * The server died (or was stopped) while it ran the command: whether the command did
 * its work is unknown here. Says so, and where to look; a rollback it interrupted
 * has a journal that the next command (or `safetynet recover`) completes.
 */
function serverWentAway(words, printed) {
  const command = words.join(" ");
  const rollback = words[0] === "rollback";
  const message =
    `the server running \`safetynet ${command}\` ended the connection before the command finished (it stopped or died): its outcome is unknown. ` +
    `See \`safetynet history\` for what it did` +
    (rollback ? "; a rollback it interrupted is journaled, and the next command (or `safetynet recover`) completes it" : "");
  // With --json the command's own object, when it was printed, stays the only one.
  if (json && printed) {
    writeTo(process.stderr, `safetynet: ${message}\n`);
    return 1;
  }
  return fail(message, { serverGone: true, outcome: "unknown", command, check: "safetynet history", ...(rollback ? { completeWith: "safetynet recover" } : {}) });
}

const target = handOver();
const stdin = target?.words[0] === "hook" ? await readStdin() : null;
const served = target ? await runOnServer(target, stdin) : null;
if (served !== null) {
  process.exitCode = served;
} else {
  const v8 = await import("node:v8");
  // A checkpoint or rollback allocates tens of MB of short-lived entries; a larger young
  // generation saves most scavenges (measured: ~60 ms of GC on a 10,000-file rollback).
  v8.setFlagsFromString("--max-semi-space-size=64");
  // The build dist/cli names now, held for this process: a rebuild meanwhile leaves it in place (scripts/cli-builds.mjs).
  const build = enterCurrentBuild(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist"));
  if (build === null || !existsSync(path.join(build, "main.mjs"))) {
    process.exitCode = fail("the CLI is not built yet; run `npm run build:cli` (it runs on npm install)", {});
  } else {
    const { main } = await import(pathToFileURL(path.join(build, "main.mjs")).href);
    process.exitCode = await main(argv, stdin === null ? {} : { stdinText: stdin });
  }
}
