/**
 * Children that end with the process that started them. A child left running
 * after its parent was killed (SIGKILL, the OOM killer) goes on with work nobody
 * waits for: a pg_dump writing a snapshot no checkpoint will record, a web
 * server holding its port, socket and locks under pid 1.
 *
 *   every child   runs under `setpriv --pdeathsig KILL --` (util-linux) on Linux
 *                 when setpriv is on PATH: the kernel kills it when the thread
 *                 that started it ends, which for Node's child_process is the
 *                 main thread, so this process. setpriv execs the command: the
 *                 same pid, nothing left in between.
 *   Node children also load parent-watch.mjs (--import), which stops them when
 *                 their parent is gone, with or without setpriv (a SIGTERM to
 *                 themselves: the web server then closes as it does on Ctrl-C).
 *
 * Plain JavaScript: scripts/start.mjs runs it without a build step, the CLI
 * bundle and the web server import it from TypeScript (child-lifetime.d.mts).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** The variable through which a Node child learns which process started it (read and removed by parent-watch.mjs). */
export const PARENT_PID_ENV = "SAFETYNET_PARENT_PID";

/** @type {string | null | undefined} */
let setpriv;

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** setpriv when it is there and knows --pdeathsig (util-linux 2.33 and later); looked up once. */
function findSetpriv() {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== "linux") return setpriv;
  const file = onPath("setpriv");
  if (file && /--pdeathsig/.test(spawnSync(file, ["--help"], { encoding: "utf8" }).stdout ?? "")) setpriv = file;
  return setpriv;
}

/** `file args` as a command the kernel ends when this process ends (unchanged where it cannot). */
export function diesWithParent(file, args) {
  const wrapper = findSetpriv();
  return wrapper ? { file: wrapper, args: ["--pdeathsig", "KILL", "--", file, ...args] } : { file, args };
}

/**
 * `node <args>` started by this process, ending with it: under setpriv where it
 * can, and watching its parent itself in any case. `root` is the package root
 * (where server/process/parent-watch.mjs is); `env` its environment.
 */
export function nodeChild(root, args, env) {
  const watch = pathToFileURL(path.join(root, "server", "process", "parent-watch.mjs")).href;
  return { ...diesWithParent(process.execPath, ["--import", watch, ...args]), env: { ...env, [PARENT_PID_ENV]: String(process.pid) } };
}
