/**
 * The core the web server works on: one per process, logging JSON lines to
 * stdout. Shared by the tRPC context, the route handlers and instrumentation.ts.
 *
 * Kept on globalThis, not in a module variable: the Next build bundles server
 * modules into several chunks (instrumentation, each route), each with its own
 * copy of module state. Two copies would open the database twice, and a second
 * open runs the migration check with another SQLite library copy whose close
 * drops this process's POSIX locks on the database (see the report on
 * server/db.ts): other processes would then delete the WAL under our feet.
 */
import { loadConfig } from "../config";
import { openCore, type Core } from "../core";

const SLOT = Symbol.for("safetynet.serverCore");

export function serverCore(): Core {
  const slot = globalThis as { [SLOT]?: Core };
  slot[SLOT] ??= openCore(loadConfig(), { logTo: "stdout" });
  return slot[SLOT];
}
