// Test seam: makes one workspace file vanish between the scan that lists it and
// the read that follows, the race of a file deleted while a checkpoint is taken,
// without any hook in the product's code. Loaded with `node --import <this file>`;
// inert unless SAFETYNET_VANISH_FILE is set.
//
//   SAFETYNET_VANISH_FILE=PATH    the absolute path of the file
//   SAFETYNET_VANISH_TIMES=N      how many scans see it vanish (default 1)
//
// Each time the scanner lstat's PATH (up to N times) the file is moved aside right
// after; when the product then fails to open it (ENOENT), it is put back, as a file
// deleted and written again would be, so the next scan finds it again.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";

const target = process.env.SAFETYNET_VANISH_FILE;
if (target) install(path.resolve(target), Number(process.env.SAFETYNET_VANISH_TIMES ?? "1"));

function install(file, times) {
  const aside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-vanish-")), path.basename(file));
  let remaining = times;
  let away = false;
  const lstatSync = fs.lstatSync;
  const openSync = fs.openSync;
  fs.lstatSync = function (p, ...rest) {
    const stat = lstatSync.call(this, p, ...rest);
    if (stat && remaining > 0 && typeof p === "string" && path.resolve(p) === file) {
      remaining--;
      fs.renameSync(file, aside);
      away = true;
    }
    return stat;
  };
  fs.openSync = function (p, ...rest) {
    try {
      return openSync.call(this, p, ...rest);
    } catch (error) {
      if (away && error?.code === "ENOENT" && typeof p === "string" && path.resolve(p) === file) {
        fs.renameSync(aside, file);
        away = false;
      }
      throw error;
    }
  };
  syncBuiltinESMExports();
}
