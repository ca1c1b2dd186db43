/**
 * Path safety for everything the scanner (and its callers) touch.
 * Invariant: nothing is read or written outside the component root — `..`, absolute
 * paths, NUL bytes and symlinked ancestors are refused before any file is opened.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { InvalidInputError, describeFsError } from "../errors";
import { decodeName, fsPath, unrepresentableReason } from "../byte-paths";

const WINDOWS_DRIVE = /^[A-Za-z]:/;

/**
 * Turns a user- or manifest-supplied relative path into canonical POSIX form
 * (`./a//b/` → `a/b`). `.` (and `./`, `a/..`-free equivalents) mean the root and
 * return `""`. Throws InvalidInputError for an empty string, a NUL byte, an
 * absolute path (`/x`, `C:\x`, `C:x`, `\\x`) or any `..` segment (with `/` or `\`
 * as separator). Backslashes are otherwise kept: on POSIX they are ordinary
 * filename characters.
 */
export function normalizeRelativePath(input: string): string {
  if (typeof input !== "string") {
    throw new InvalidInputError(`path must be a string, got ${typeof input}`, { path: input });
  }
  if (input.length === 0 || input.trim().length === 0) {
    throw new InvalidInputError(`path must not be empty: ${JSON.stringify(input)}`, { path: input });
  }
  if (input.includes("\0")) {
    throw new InvalidInputError(`path contains a NUL byte: ${JSON.stringify(input)}`, { path: input });
  }
  const unrepresentable = unrepresentableReason(input);
  if (unrepresentable) {
    // A byte that is not UTF-8 travels as U+DC80..U+DCFF; any other lone surrogate names no file.
    throw new InvalidInputError(`path is not a file name: it holds ${unrepresentable}: ${JSON.stringify(input)}`, { path: input });
  }
  if (input.startsWith("/") || input.startsWith("\\") || WINDOWS_DRIVE.test(input)) {
    throw new InvalidInputError(`path must be relative to the component root, got absolute path: ${input}`, { path: input });
  }
  const out: string[] = [];
  for (const segment of input.split("/")) {
    if (segment === "" || segment === ".") continue;
    // `..\x` or `a\..` would be a parent reference on Windows: refuse it everywhere.
    if (segment === ".." || segment.split("\\").includes("..")) {
      throw new InvalidInputError(`path must not contain "..": ${input}`, { path: input });
    }
    out.push(segment);
  }
  return out.join("/");
}

/**
 * Runs a check of a path from a request so that its refusal names the input field
 * as a schema error would (`invalid paths.1: ...`, details.field `paths.1`).
 */
export function checkInputPath<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(`invalid ${field}: ${error.message}`, { ...error.details, field }, { cause: error });
  }
}

/** A link's target as it is stored (never followed), bytes that are not UTF-8 escaped (server/byte-paths.ts). */
export function readLinkTarget(abs: string): string {
  const target = readlinkSync(fsPath(abs));
  return target.includes("\ufffd") ? decodeName(readlinkSync(fsPath(abs), { encoding: "buffer" })) : target;
}

/** A folder's entry names exactly (bytes that are not UTF-8 escaped), in no particular order. */
export function listNames(absDir: string): string[] {
  const names = readdirSync(fsPath(absDir));
  return names.some((n) => n.includes("\ufffd")) ? readdirSync(fsPath(absDir), { encoding: "buffer" }).map(decodeName) : names;
}

/** True when `candidate` (absolute, normalized) is `root` or lies under it. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Absolute path of `rel` under `root`; throws InvalidInputError if it would escape. */
export function resolveInsideRoot(root: string, rel: string): string {
  const normalized = normalizeRelativePath(rel);
  const absRoot = path.resolve(root);
  const abs = normalized === "" ? absRoot : path.resolve(absRoot, normalized);
  if (!isInside(absRoot, abs)) {
    throw new InvalidInputError(`path escapes the component root: ${rel}`, { path: rel, root: absRoot });
  }
  return abs;
}

/**
 * Lexically: does the symlink at `relPathOfLink` (relative to `root`) with the given
 * `target` point outside `root`? Relative targets resolve against the link's own
 * directory; absolute targets are taken as they are. The link is never followed.
 */
export function symlinkPointsOutside(root: string, relPathOfLink: string, target: string): boolean {
  const absRoot = path.resolve(root);
  const linkDir = path.dirname(path.resolve(absRoot, relPathOfLink));
  const resolved = path.resolve(linkDir, target);
  return !isInside(absRoot, resolved);
}

/**
 * Validates a primary path against the filesystem: every existing ancestor directory
 * of `rel` under `root` must be a real directory (we never traverse symlinked
 * directories), and if `rel` itself is a symlink its target must stay inside `root`
 * (checked lexically; set `checkFinal: false` to skip that part). Missing segments
 * are fine (the path may not exist yet). Throws InvalidInputError naming the culprit.
 */
export function assertNoSymlinkEscape(root: string, rel: string, options: { checkFinal?: boolean } = {}): void {
  const normalized = normalizeRelativePath(rel);
  if (normalized === "") return;
  const absRoot = path.resolve(root);
  const segments = normalized.split("/");
  let current = absRoot;
  let currentRel = "";
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    current = `${current === "/" ? "" : current}/${segment}`;
    currentRel = currentRel === "" ? segment : `${currentRel}/${segment}`;
    const last = i === segments.length - 1;
    let st;
    try {
      st = lstatSync(fsPath(current), { throwIfNoEntry: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw describeFsError(error, current);
    }
    if (!st) return; // does not exist (yet): nothing further can be a symlink
    if (!last) {
      if (st.isSymbolicLink()) {
        throw new InvalidInputError(`path goes through a symlinked directory: ${currentRel} (in ${rel})`, { path: rel, symlink: currentRel });
      }
      if (!st.isDirectory()) return; // the rest cannot exist
      continue;
    }
    if (options.checkFinal !== false && st.isSymbolicLink()) {
      let target: string;
      try {
        target = readLinkTarget(current);
      } catch (error) {
        throw describeFsError(error, current);
      }
      if (symlinkPointsOutside(absRoot, currentRel, target)) {
        throw new InvalidInputError(`symlink points outside the component root: ${currentRel} -> ${target}`, { path: rel, symlink: currentRel, target });
      }
    }
  }
}

/**
 * Checks a component root: it must exist, be a directory, and its realpath must lie
 * inside the realpath of one of `allowedRoots` (allowed roots that do not exist are
 * skipped). Returns the root's realpath, which callers should use from then on.
 */
export function assertRootAllowed(root: string, allowedRoots: string[]): string {
  if (typeof root !== "string" || root.length === 0 || root.includes("\0")) {
    throw new InvalidInputError(`component root must be a non-empty path without NUL bytes: ${JSON.stringify(root)}`, { root });
  }
  let real: string;
  try {
    real = realpathSync(path.resolve(root));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InvalidInputError(`component root does not exist: ${root}`, { root });
    }
    throw describeFsError(error, root);
  }
  let isDir: boolean;
  try {
    isDir = statSync(real).isDirectory();
  } catch (error) {
    throw describeFsError(error, root);
  }
  if (!isDir) {
    throw new InvalidInputError(`component root is not a directory: ${root}`, { root });
  }
  const realAllowed: string[] = [];
  for (const allowed of allowedRoots) {
    if (!allowed) continue;
    try {
      realAllowed.push(realpathSync(path.resolve(allowed)));
    } catch {
      // An allowed root that does not exist allows nothing.
    }
  }
  if (!realAllowed.some((allowed) => isInside(allowed, real))) {
    throw new InvalidInputError(
      `component root ${root} is outside the allowed roots (${allowedRoots.join(path.delimiter) || "none"})`,
      { root, realRoot: real, allowedRoots },
    );
  }
  return real;
}
