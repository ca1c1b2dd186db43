/**
 * Shared fixtures for the engine and CLI specifications: real temp directories,
 * a Core opened on them, an independent view of a directory tree (sha256, mode,
 * mtime, inode and link target of every entry, ignored folders included), the
 * tree generators of scripts/generators/, and a runner for `node bin/safetynet.mjs`.
 *
 * The tree reader here deliberately does not use the product's scanner: the
 * specifications judge the scanner, they must not trust it.
 */
import { execFileSync, spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, afterEach } from "vitest";
import { loadConfig } from "../../server/config";
import { closeCore, openCore, type Core } from "../../server/core";
import { metadataEnvFor, metadataUrlFor } from "./metadata-store";
import { corruptObjectEverywhere, deleteObjectEverywhere, objectStoreConfigFor, objectStoreEnvFor } from "./object-store-location";
import { upsertComponent, type ComponentView } from "../../server/registry/components";
import { findCheckpointRow } from "../../server/checkpoints/queries";
import { performRollback, type ExecuteOptions, type RollbackResult } from "../../server/rollback/execute";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
const GENERATORS_DIR = path.join(REPO_ROOT, "scripts", "generators");
const CLI_BIN = path.join(REPO_ROOT, "bin", "safetynet.mjs");

export const IS_ROOT = typeof process.getuid === "function" && process.getuid() === 0;
/** uid/gid of `nobody`: CLI runs that must not have root's power to read anything. */
export const NOBODY = { uid: 65534, gid: 65534 };

// ---------------------------------------------------------------------------
// Temp directories and workspaces

type Cleanup = () => void | Promise<void>;
/** "test": removed after the test that made it (default); "file": shared by the tests of a file, removed after them. */
export type Lifetime = "test" | "file";
const cleanups: Record<Lifetime, Cleanup[]> = { test: [], file: [] };

/**
 * Registers the cleanup of every temp dir, mount and core the tests made (call once
 * per test file). The list is per file, not per test: do not combine it with
 * `describe.concurrent` (one test's cleanup would remove another's folders). Share
 * slow setup through `lifetime: "file"` and beforeAll instead.
 */
export function cleanUpAfterEach(): void {
  const drain = async (list: Cleanup[]) => {
    while (list.length > 0) await list.pop()?.();
  };
  afterEach(() => drain(cleanups.test));
  afterAll(() => drain(cleanups.file));
}

export function makeTempDir(label: string, lifetime: Lifetime = "test"): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `safetynet-${label}-`)));
  cleanups[lifetime].push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The folders of one test: `root` (the component), `dataDir` (Safety Net's data), both under `base`. */
export interface WorkspaceDirs {
  base: string;
  root: string;
  dataDir: string;
  lifetime?: Lifetime;
}

export function makeWorkspaceDirs(label = "ws", lifetime: Lifetime = "test"): WorkspaceDirs {
  const base = makeTempDir(label, lifetime);
  const dirs = { base, root: path.join(base, "workspace"), dataDir: path.join(base, "data"), lifetime };
  fs.mkdirSync(dirs.root);
  return dirs;
}

export interface Workspace extends WorkspaceDirs {
  core: Core;
}

/**
 * Opens a Core on a fresh data dir with SAFETYNET_ALLOWED_ROOTS = the temp dir
 * (`allowedRoots` overrides it). `beforeOpen` runs on the bare folders first
 * (e.g. to mount a tiny file system where the store will live).
 */
export function openWorkspace(options: { label?: string; allowedRoots?: string[]; beforeOpen?: (dirs: WorkspaceDirs) => void } = {}): Workspace {
  const dirs = makeWorkspaceDirs(options.label);
  options.beforeOpen?.(dirs);
  const core = openCoreOn(dirs, options.allowedRoots ?? [dirs.base], { fresh: false });
  return { ...dirs, core };
}

/**
 * A Core as a process started with SAFETYNET_ALLOWED_ROOTS = `allowedRoots` would
 * build it. `fresh` gives a second Core on the same data dir (same database) with
 * its own configuration, as another process would have.
 */
export function openCoreOn(dirs: WorkspaceDirs, allowedRoots: string[], options: { fresh: boolean }): Core {
  const previous = process.env.SAFETYNET_ALLOWED_ROOTS;
  process.env.SAFETYNET_ALLOWED_ROOTS = allowedRoots.join(path.delimiter);
  try {
    const config = { ...loadConfig({ dataDir: dirs.dataDir, cwd: dirs.base, databaseUrl: metadataUrlFor(dirs.dataDir) ?? null }), ...objectStoreConfigFor(dirs.dataDir) };
    cleanups[dirs.lifetime ?? "test"].push(() => closeCore(dirs.dataDir));
    return options.fresh ? openCore(config, { now: () => new Date() }) : openCore(config);
  } finally {
    if (previous === undefined) delete process.env.SAFETYNET_ALLOWED_ROOTS;
    else process.env.SAFETYNET_ALLOWED_ROOTS = previous;
  }
}

/** A Core on the data dir the CLI uses, to look at its database and store from the test. */
export function inspectData(dirs: WorkspaceDirs): Core {
  return openCoreOn(dirs, [dirs.base], { fresh: false });
}

export const TEST_ACTOR = "test:spec";

export function addComponent(
  ws: Workspace,
  options: { name?: string; include?: string[]; exclude?: string[]; metadata?: Record<string, unknown> } = {},
): Promise<ComponentView> {
  return upsertComponent(ws.core, { name: options.name ?? "app", root: ws.root, include: options.include, exclude: options.exclude, metadata: options.metadata }, TEST_ACTOR);
}

/** A confirmed rollback (what `safetynet rollback <id> --yes` does). */
export async function rollbackTo(core: Core, checkpointId: string, options: ExecuteOptions = {}): Promise<RollbackResult> {
  return performRollback(core, await findCheckpointRow(core, checkpointId), TEST_ACTOR, options);
}

// ---------------------------------------------------------------------------
// Building trees

export type TreeSpec = Record<string, string | Buffer | { content: string | Buffer; mode?: number; mtime?: Date } | { link: string } | { dir: true; mode?: number }>;

/** Writes files, symlinks and (empty) directories under `root`; parents are created as needed. */
export function writeTree(root: string, spec: TreeSpec): void {
  for (const [rel, value] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof value === "string" || Buffer.isBuffer(value)) {
      fs.writeFileSync(abs, value);
    } else if ("link" in value) {
      fs.symlinkSync(value.link, abs);
    } else if ("dir" in value) {
      fs.mkdirSync(abs, { recursive: true });
      if (value.mode !== undefined) fs.chmodSync(abs, value.mode);
    } else {
      fs.writeFileSync(abs, value.content);
      if (value.mode !== undefined) fs.chmodSync(abs, value.mode);
      if (value.mtime) fs.utimesSync(abs, value.mtime, value.mtime);
    }
  }
}

/**
 * scripts/generators/make-tree.mjs: a deterministic agent workspace. src/ holds `files` source
 * files (tests beside modules, relative imports, modes 0755/0600, binaries, unicode and
 * spaced names, an empty file) plus a few symlinks, empty folders and src/codegen/ (its
 * nested .gitignore hides generated files); node_modules/, .git/, dist/, a .log and the
 * root .gitignore are the noise a checkpoint skips. `bytes`: the size of the `files` files.
 */
export function makeTree(dir: string, options: { files: number; mb: number; seed?: number }): { files: number; bytes: number } {
  const out = execFileSync(process.execPath, [path.join(GENERATORS_DIR, "make-tree.mjs"), dir, "--files", String(options.files), "--mb", String(options.mb), "--seed", String(options.seed ?? 1)], { encoding: "utf8" });
  return JSON.parse(out) as { files: number; bytes: number };
}

export interface MutationSummary {
  modified: number;
  deleted: number;
  added: number;
  renamedDir: string | null;
  chmod: string | null;
  /** The rarer moves, each done or not (null) depending on the seed. */
  replacedByDir: string | null;
  retargetedLink: string | null;
  emptyDirAdded: string | null;
  binaryRewritten: string | null;
}

/**
 * scripts/generators/mutate-tree.mjs: an agent-like refactor of the checkpointed files under
 * src/ (modify, delete, add, rename a folder, chmod; sometimes a file becomes a folder, a
 * symlink is retargeted, an empty folder appears, a binary is rewritten). Ignored files are never touched.
 */
export function mutateTree(dir: string, options: { changes?: number; seed?: number } = {}): MutationSummary {
  const out = execFileSync(process.execPath, [path.join(GENERATORS_DIR, "mutate-tree.mjs"), dir, "--changes", String(options.changes ?? 50), "--seed", String(options.seed ?? 7)], { encoding: "utf8" });
  return JSON.parse(out) as MutationSummary;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Spec", "-c", "user.email=spec@example.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();
}

// ---------------------------------------------------------------------------
// Reading trees

export interface NodeState {
  kind: "file" | "dir" | "symlink" | "other";
  /** Permission bits (mode & 0o7777). */
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
  sha256?: string;
  linkTarget?: string;
  /** Files: how many names the inode has, and the 512-byte blocks it has on disk (a sparse file has fewer than its size). */
  nlink?: number;
  blocks?: number;
}

/** Every entry under `root` (not the root itself), by POSIX relative path; ignored folders included; symlinks never followed. */
export type TreeState = Map<string, NodeState>;

export function sha256Of(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A file name's bytes as the tests key it: its UTF-8 text, each byte that is not
 * part of valid UTF-8 written as the lone surrogate U+DC00 + byte (how the product's
 * JSON names such a file). Decoded here with the platform's strict decoder, one
 * character at a time: the tests do not borrow the product's codec.
 */
export function testName(bytes: Buffer): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    let taken = 0;
    for (let length = 1; length <= 4 && i + length <= bytes.length; length++) {
      try {
        const char = strict.decode(bytes.subarray(i, i + length));
        if ([...char].length === 1) {
          out += char;
          taken = length;
          break;
        }
      } catch {
        // not a whole character yet
      }
    }
    if (taken === 0) {
      out += String.fromCharCode(0xdc00 + (bytes[i] as number));
      taken = 1;
    }
    i += taken;
  }
  return out;
}

/** The bytes of a test key (testName's inverse): what to hand the file system. */
export function testPathBytes(name: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    const paired = unit >= 0xdc00 && unit <= 0xdfff && i > 0 && name.charCodeAt(i - 1) >= 0xd800 && name.charCodeAt(i - 1) <= 0xdbff;
    if (unit >= 0xdc80 && unit <= 0xdcff && !paired) parts.push(Buffer.of(unit - 0xdc00));
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < name.length) {
      parts.push(Buffer.from(name.slice(i, i + 2), "utf8"));
      i++;
    } else parts.push(Buffer.from(name[i] as string, "utf8"));
  }
  return Buffer.concat(parts);
}

/** Every entry under `root` (names as testName keys them); file contents hashed, links read, nothing followed. */
export function readTree(root: string): TreeState {
  const state: TreeState = new Map();
  const walk = (absDir: Buffer, relDir: string) => {
    const names = fs.readdirSync(absDir, { encoding: "buffer" }).map((bytes) => ({ bytes, name: testName(bytes) }));
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { bytes, name } of names) {
      const abs = Buffer.concat([absDir, Buffer.from("/"), bytes]);
      const rel = relDir ? `${relDir}/${name}` : name;
      const st = fs.lstatSync(abs);
      const node: NodeState = {
        kind: st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other",
        mode: st.mode & 0o7777,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      };
      if (node.kind === "file") {
        node.sha256 = sha256Of(fs.readFileSync(abs));
        node.nlink = st.nlink;
        node.blocks = st.blocks;
      }
      if (node.kind === "symlink") node.linkTarget = testName(fs.readlinkSync(abs, { encoding: "buffer" }));
      state.set(rel, node);
      if (node.kind === "dir") walk(abs, rel);
    }
  };
  walk(Buffer.from(root), "");
  return state;
}

export function filterTree(tree: TreeState, keep: (rel: string) => boolean): TreeState {
  return new Map([...tree].filter(([rel]) => keep(rel)));
}

/** What make-tree.mjs's .gitignore files (the root one and src/codegen/'s) and the built-in excludes hide from a checkpoint. */
export function isIgnoredByDefault(rel: string): boolean {
  const parts = rel.split("/");
  if (parts.some((p) => p === "node_modules" || p === ".git" || p === "dist") || rel.endsWith(".log")) return true;
  return /^src\/codegen\/(?:[^/]+\/)*(?:[^/]+\.generated\.ts$|out(?:\/|$))/.test(rel);
}

/**
 * Node's utimes() goes through libuv, which truncates to whole microseconds (and
 * passes seconds as a double): a restored mtime is exact to ~1 µs, the best the
 * platform API allows. Mtimes closer than this are the same mtime.
 */
export const MTIME_TOLERANCE_MS = 0.002;

export interface CompareOptions {
  /** Compare mtimes of files only, of files and directories, or not at all (default "files"). */
  mtime?: "files" | "all" | false;
  /** Also require the same inode for files (i.e. the file was not rewritten). */
  inode?: boolean;
}

/**
 * Human-readable differences between two trees (empty when they match): entries
 * missing or unexpected, and for common entries kind, content (sha256 / link
 * target), permission bits, mtime and, if asked, inode.
 */
export function treeDifferences(expected: TreeState, actual: TreeState, options: CompareOptions = {}): string[] {
  const mtime = options.mtime ?? "files";
  const problems: string[] = [];
  for (const [rel, want] of expected) {
    const got = actual.get(rel);
    if (!got) {
      problems.push(`missing: ${rel}`);
      continue;
    }
    if (got.kind !== want.kind) {
      problems.push(`${rel}: kind ${want.kind} -> ${got.kind}`);
      continue;
    }
    if (want.sha256 !== got.sha256) problems.push(`${rel}: sha256 ${want.sha256} -> ${got.sha256}`);
    if (want.linkTarget !== got.linkTarget) problems.push(`${rel}: link target ${want.linkTarget} -> ${got.linkTarget}`);
    if (want.kind !== "symlink" && want.mode !== got.mode) problems.push(`${rel}: mode ${want.mode.toString(8)} -> ${got.mode.toString(8)}`);
    const checkMtime = want.kind === "file" ? mtime !== false : want.kind === "dir" && mtime === "all";
    if (checkMtime && Math.abs(want.mtimeMs - got.mtimeMs) > MTIME_TOLERANCE_MS) problems.push(`${rel}: mtime ${want.mtimeMs} -> ${got.mtimeMs}`);
    if (options.inode && want.kind === "file" && want.ino !== got.ino) problems.push(`${rel}: rewritten (inode ${want.ino} -> ${got.ino})`);
  }
  for (const rel of actual.keys()) if (!expected.has(rel)) problems.push(`unexpected: ${rel}`);
  return problems;
}

/**
 * Flips one byte of a stored object, raw or compressed (stored-objects.ts), and
 * on the S3 pass of its copy in the bucket too; returns its file.
 */
export function corruptObject(dataDir: string, sha256: string): Promise<string> {
  return corruptObjectEverywhere(dataDir, sha256);
}

/** Removes a stored object's file, whichever form it is in, and on the S3 pass its copy in the bucket. */
export function deleteObject(dataDir: string, sha256: string): Promise<void> {
  return deleteObjectEverywhere(dataDir, sha256);
}

export function journalFiles(dataDir: string): string[] {
  try {
    return fs.readdirSync(path.join(dataDir, "journal")).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// A tiny file system for "disk full"

let mountProbe: string | null | undefined;

/** Why tmpfs mounts are impossible here (null when they work). Probed once. */
export function tmpfsUnavailableReason(): string | null {
  if (mountProbe !== undefined) return mountProbe;
  if (process.platform !== "linux") return (mountProbe = "tmpfs mounts need Linux");
  if (!IS_ROOT) return (mountProbe = "mounting a tiny tmpfs to simulate a full disk needs root");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" });
    execFileSync("umount", [dir], { stdio: "ignore" });
    mountProbe = null;
  } catch {
    mountProbe = "mount -t tmpfs is not permitted in this environment";
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return mountProbe;
}

/** Mounts a tmpfs of `sizeKb` KiB on `dir` (created if needed); unmounted after the test. */
export function mountTinyDisk(dir: string, sizeKb: number): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0755`, "tmpfs", dir], { stdio: "ignore" });
  // Registered after the temp dir's removal, so it runs first.
  cleanups.test.push(() => {
    try {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
    } catch {
      // already gone
    }
  });
}

/** Writes `file` so large that only about `leaveKb` KiB stay free on its file system. */
export function fillDisk(file: string, leaveKb: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { bavail, bsize } = fs.statfsSync(path.dirname(file));
  fs.writeFileSync(file, Buffer.alloc(Math.max(0, bavail * bsize - leaveKb * 1024)));
}

// ---------------------------------------------------------------------------
// The CLI

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** SAFETYNET_ALLOWED_ROOTS for this run (default: the workspace's base dir). */
  allowedRoots?: string[];
  /** Run as another user (e.g. NOBODY). */
  user?: { uid: number; gid: number };
  cwd?: string;
  /** Inject a crash or an I/O error at the process's Nth file-system change under `under` (test/support/fault-seam.mjs). */
  fault?: Fault;
  /** Make `file` vanish right after the scan lists it, `times` scans in a row (test/support/vanish-seam.mjs). */
  vanish?: { file: string; times: number };
  /** Called with the CLI process once it is started (to watch its children, or to kill it). */
  onSpawn?: (child: ChildProcess) => void;
  /** Text written to the process's stdin (then closed), as an agent feeds a hook its event; default: no stdin. */
  input?: string;
}

export interface Fault {
  after: number;
  under?: string;
  /** pause: the call happens, then its result is held back (promise and callback forms), the seam saying so on stderr. */
  mode?: "kill" | "eio" | "enospc" | "fifo" | "pause";
}

const FAULT_SEAM = path.join(REPO_ROOT, "test", "support", "fault-seam.mjs");
const VANISH_SEAM = path.join(REPO_ROOT, "test", "support", "vanish-seam.mjs");

/** Starts `node bin/safetynet.mjs <args>` on the workspace's data dir, without a terminal (stdout and stderr piped). */
export function spawnCli(dirs: WorkspaceDirs, args: string[], options: CliOptions = {}): ChildProcessByStdio<null, Readable, Readable> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SAFETYNET_DATA_DIR: dirs.dataDir,
    SAFETYNET_ALLOWED_ROOTS: (options.allowedRoots ?? [dirs.base]).join(path.delimiter),
    ...metadataEnvFor(dirs.dataDir),
    ...objectStoreEnvFor(dirs.dataDir),
  };
  delete env.SAFETYNET_FAULT_AFTER;
  delete env.SAFETYNET_VANISH_FILE;
  delete env.SAFETYNET_DEBUG;
  if (options.fault) {
    env.SAFETYNET_FAULT_AFTER = String(options.fault.after);
    env.SAFETYNET_FAULT_MODE = options.fault.mode ?? "kill";
    if (options.fault.under) env.SAFETYNET_FAULT_UNDER = options.fault.under;
  }
  if (options.vanish) {
    env.SAFETYNET_VANISH_FILE = options.vanish.file;
    env.SAFETYNET_VANISH_TIMES = String(options.vanish.times);
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const nodeArgs = [...(options.fault ? ["--import", FAULT_SEAM] : []), ...(options.vanish ? ["--import", VANISH_SEAM] : [])];
  return spawn(process.execPath, [...nodeArgs, CLI_BIN, ...args], {
    cwd: options.cwd ?? dirs.base,
    env,
    // (With input, stdin is a pipe runCli writes it to; the type keeps the common case.)
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  }) as ChildProcessByStdio<null, Readable, Readable>;
}

/** Runs `node bin/safetynet.mjs <args>` on the workspace's data dir, without a terminal. */
export function runCli(dirs: WorkspaceDirs, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(dirs, args, options);
    if (options.input !== undefined) (child as ChildProcess).stdin?.end(options.input);
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/**
 * Runs `node bin/safetynet.mjs <args>` with both output pipes closed before it writes
 * (as `safetynet … | head -0` does): its exit code and signal.
 */
export function runCliUnread(args: string[], env: Record<string, string>, cwd?: string): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    child.stderr.destroy();
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal }));
  });
}

/**
 * The `--json` contract: stdout is exactly one JSON object and nothing else.
 * Throws (failing the test) with the raw output otherwise.
 */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  let value: unknown;
  try {
    value = JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not exactly one JSON document (exit ${result.status}):\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`stdout is JSON but not an object: ${result.stdout}`);
  return value as T;
}

/** Runs the CLI with --json and requires the exit code; returns the parsed object (so every call checks the one-object contract). */
export async function cliJson<T = Record<string, unknown>>(dirs: WorkspaceDirs, args: string[], expectedStatus = 0, options: CliOptions = {}): Promise<T> {
  const result = await runCli(dirs, [...args, "--json"], options);
  if (result.status !== expectedStatus) {
    throw new Error(`safetynet ${args.join(" ")} exited ${result.status ?? result.signal}, expected ${expectedStatus}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
  return jsonOf<T>(result);
}

/** What every command prints with --json when it fails. */
export interface CliErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * The CLI specs run the bundle in dist/cli; a bundle older than the sources it
 * was built from would test old code. Fails with the fix when that is the case.
 */
export function assertCliBundleFresh(): void {
  const link = path.join(REPO_ROOT, "dist", "cli");
  if (!fs.existsSync(path.join(link, "main.mjs"))) throw new Error("the CLI is not built: run `node scripts/build-cli.mjs`");
  // The build's own folder (dist/cli links to it): its source maps name sources relative to it.
  const bundleDir = fs.realpathSync(link);
  const main = path.join(bundleDir, "main.mjs");
  const builtAt = fs.statSync(main).mtimeMs;
  const maps = [path.join(bundleDir, "main.mjs.map"), ...fs.readdirSync(path.join(bundleDir, "chunks")).filter((n) => n.endsWith(".map")).map((n) => path.join(bundleDir, "chunks", n))];
  const stale: string[] = [];
  for (const map of maps) {
    const sources = (JSON.parse(fs.readFileSync(map, "utf8")) as { sources: string[] }).sources;
    for (const source of sources) {
      const abs = path.resolve(path.dirname(map), source);
      if (abs.includes(`${path.sep}node_modules${path.sep}`) || !fs.existsSync(abs)) continue;
      if (fs.statSync(abs).mtimeMs > builtAt) stale.push(path.relative(REPO_ROOT, abs));
    }
  }
  if (stale.length > 0) throw new Error(`dist/cli is older than ${[...new Set(stale)].join(", ")}: run \`node scripts/build-cli.mjs\` before the CLI specs`);
}
