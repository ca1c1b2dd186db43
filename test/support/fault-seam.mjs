// Test seam: injects a crash (SIGKILL) or an I/O failure into a `safetynet`
// process at its Nth file-system change under a given path, without any hook
// in the product's code. Loaded with `node --import <this file>`; inert unless
// SAFETYNET_FAULT_AFTER is set.
//
//   SAFETYNET_FAULT_AFTER=N     act on the Nth change (1 = the first)
//   SAFETYNET_FAULT_UNDER=DIR   count only changes to paths under DIR (default: every path)
//   SAFETYNET_FAULT_MODE=kill   SIGKILL the process (default), or
//                       =eio    make that call fail with EIO (the process goes on), or
//                       =enospc make that call fail with ENOSPC, as on a full disk (the process goes on), or
//                       =fifo   let that call happen, then put a FIFO where its path was
//                               (another process swapping a file for a pipe under our feet), or
//                       =pause  let that call happen, say so on stderr ("safetynet-test-seam: paused
//                               after <call> '<path>'"), and hold its result back for
//                               SAFETYNET_FAULT_PAUSE_MS (default 120000): the process is idle
//                               mid-operation (signals are handled) for a test to look at or signal.
//                               A sync call cannot be held back: the first promise or callback
//                               call from the Nth change on is.
//                       =stall  like pause, but a sync call at the Nth change holds the whole
//                               process (its timers too: a host that stopped, then goes on) for
//                               SAFETYNET_FAULT_PAUSE_MS, right after the call
//
// "Changes" are the calls that alter the file system: rename, unlink, rmdir,
// mkdir, symlink, chmod, utimes, lutimes, open for writing, writeFile, copyFile,
// in their sync, callback and promise forms.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";

const after = Number(process.env.SAFETYNET_FAULT_AFTER ?? "");
if (Number.isInteger(after) && after > 0) install(after);

function install(limit) {
  const under = process.env.SAFETYNET_FAULT_UNDER ? path.resolve(process.env.SAFETYNET_FAULT_UNDER) + path.sep : null;
  const mode = ["eio", "enospc", "fifo", "pause", "stall"].includes(process.env.SAFETYNET_FAULT_MODE) ? process.env.SAFETYNET_FAULT_MODE : "kill";
  const pauseMs = Number(process.env.SAFETYNET_FAULT_PAUSE_MS ?? "120000");
  const paused = (name, args) => {
    process.stderr.write(`safetynet-test-seam: paused after ${name} '${target(name, args)}'\n`);
    return new Promise((resolve) => setTimeout(resolve, pauseMs));
  };
  let count = 0;
  let fired = false;
  const counts = (target) => {
    if (fired) return false;
    // A name that is not UTF-8 is passed as bytes; its folder's prefix still reads the same.
    const where = Buffer.isBuffer(target) ? target.toString("utf8") : target;
    if (typeof where !== "string") return false;
    if (under && !(path.resolve(where) + path.sep).startsWith(under)) return false;
    return ++count >= limit;
  };
  const failure = (name, target) =>
    mode === "enospc"
      ? Object.assign(new Error(`ENOSPC: no space left on device (injected by the test seam), ${name} '${target}'`), { code: "ENOSPC", errno: -28, syscall: name, path: target })
      : Object.assign(new Error(`EIO: i/o error (injected by the test seam), ${name} '${target}'`), { code: "EIO", errno: -5, syscall: name, path: target });
  const writes = (flags) => typeof flags === "number" ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT)) !== 0 : typeof flags === "string" && /[wa+]/.test(flags);

  // Which argument names the path that changes: the link's own path for symlink, the destination for copyFile.
  const target = (name, args) => (name === "symlink" || name === "copyFile" ? args[1] : args[0]);
  const wrap = (name, isChange = () => true) => {
    const sync = fs[`${name}Sync`];
    const callback = fs[name];
    const promise = fs.promises[name];
    const hit = (args) => isChange(args) && counts(target(name, args));
    const act = (args) => {
      fired = true;
      if (mode === "kill") process.kill(process.pid, "SIGKILL");
      return failure(name, target(name, args));
    };
    const swapForFifo = (args) => {
      fired = true;
      const where = target(name, args);
      fs.rmSync(where, { force: true });
      execFileSync("mkfifo", [where]);
    };
    if (sync) fs[`${name}Sync`] = function (...args) {
      if (!hit(args)) return sync.apply(this, args);
      if (mode === "pause") return sync.apply(this, args);
      if (mode === "stall") {
        fired = true;
        const result = sync.apply(this, args);
        process.stderr.write(`safetynet-test-seam: paused after ${name}Sync '${target(name, args)}'\n`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
        return result;
      }
      if (mode === "fifo") {
        const result = sync.apply(this, args);
        swapForFifo(args);
        return result;
      }
      throw act(args);
    };
    if (callback) fs[name] = function (...args) {
      if ((mode === "pause" || mode === "stall") && typeof args[args.length - 1] === "function" && hit(args)) {
        fired = true;
        const cb = args[args.length - 1];
        return callback.apply(this, [...args.slice(0, -1), (...results) => paused(name, args).then(() => cb(...results))]);
      }
      if (hit(args)) {
        const error = act(args);
        const cb = args[args.length - 1];
        if (typeof cb === "function") return process.nextTick(cb, error);
        throw error;
      }
      return callback.apply(this, args);
    };
    if (promise) fs.promises[name] = function (...args) {
      if (!hit(args)) return promise.apply(this, args);
      if (mode === "pause" || mode === "stall") {
        fired = true;
        return promise.apply(this, args).then(async (result) => {
          await paused(name, args);
          return result;
        });
      }
      return Promise.reject(act(args));
    };
  };
  for (const name of ["rename", "unlink", "rmdir", "mkdir", "symlink", "chmod", "utimes", "lutimes", "writeFile", "copyFile", "rm"]) wrap(name);
  wrap("open", (args) => writes(args[1]));
  syncBuiltinESMExports();
}
