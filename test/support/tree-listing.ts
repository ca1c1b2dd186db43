/**
 * A plain listing of a directory tree for comparing an extracted archive with a
 * restore: kind, permission bits and content hash (or link target) per entry, and
 * whole-second mtimes (a tar header's resolution). No test-runner imports, so the
 * browser tests and the HTTP tests share it.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";

/** Kind, permission bits and content (or link target) of every entry under `root`; mtimes apart. */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[key] = `link -> ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${mode}`;
        walk(abs, key);
      } else out[key] = `file ${mode} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`;
    }
  };
  walk(root, "");
  return out;
}

/** Whole-second mtimes of every non-link entry under `root` (a tar header's resolution). */
export function secondMtimes(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) continue;
      out[key] = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) walk(abs, key);
    }
  };
  walk(root, "");
  return out;
}
