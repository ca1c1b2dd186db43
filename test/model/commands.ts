/**
 * The commands of the model-based test: what agents and operators do to a
 * component, each run against the real system (System) and checked against the
 * reference model (reference.ts). Workspace edits change the tree directly;
 * operations go through the CLI as a process or the app router's caller.
 */
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { TRPCError } from "@trpc/server";
import { RACY_WINDOW_MS } from "../../server/scan/stat-cache";
import { jsonOf, testPathBytes, treeDifferences, type CliResult, type NodeState, type TreeState } from "../support/workspace";
import { startInPlaceWriter, VERSION_A, versionOf } from "../support/in-place-writer";
import { FAULTS } from "../support/s3-fault-proxy";
import { downgradeToFlatManifests } from "./legacy-format";
import { changeRecordProblems } from "./change-records";
import { COMPONENT, MEMORY_DB, SPARSE_IMAGE, SPARSE_SIZE, System, writeSparseFile } from "./system";
import { expectedChanges, expectRollback, inScope, isIgnored, partialScope, scopedView, untouchableDifferences, viewDifferences, type ChangeKind, type Scope } from "./reference";

export interface ModelCheckpoint {
  id: string;
  scope: Scope;
  /** What the checkpoint holds: the scoped view of the tree when it was taken. */
  view: TreeState;
  pinned: boolean;
  /** The memory store's contents when taken with its database (`--db`), else null: a rollback leaves the store alone. */
  memory: string | null;
  /** Paths it recorded as unstable (they kept changing while it read them): not in `view`, left alone by its rollbacks. */
  unstable: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

export interface Model {
  checkpoints: ModelCheckpoint[];
  /** The safety checkpoint of the last rollback (its undo), while it is known. */
  undo: string | null;
  plan: { checkpointId: string; token: string; view: TreeState; expired: boolean } | null;
  /** A rollback killed half-way, until a command that recovers has run. */
  crashed: { checkpointId: string; scope: Scope; before: TreeState; memoryBefore: string; editedSince: boolean } | null;
  /** A crash's rollback row may still say "running" until a CLI start or `recover` reconciles it. */
  reconcilePending: boolean;
  /** The S3 mode (null: the objects are the data directory's own). */
  bucket: BucketState | null;
}

export interface BucketState {
  /** The objects are in the bucket (false between `store migrate --to local` and the migration back). */
  inBucket: boolean;
  /**
   * What the step that just ran completed, if it changed something: a checkpoint (its flush
   * uploads everything staged before it), or another change (a rollback, a pin, retention).
   * Failed and read-only operations may leave what they stored staged (a refused execute
   * stores the live files it compared): the next checkpoint uploads it.
   */
  mutation: "checkpoint" | "other" | null;
  /** A process was SIGKILLed in this sequence: a marker of an object it never finished writing may stay in the outbox for a while. */
  killed: boolean;
}

/** The step completed a change (see BucketState.mutation). */
function mutated(m: Model, kind: "checkpoint" | "other"): void {
  if (m.bucket && m.bucket.mutation !== "checkpoint") m.bucket.mutation = kind;
}

/** Whether this command may see the history rows of recovering from an earlier crash. */
const recovering = (m: Readonly<Model>) => m.crashed !== null || m.reconcilePending;

type Cmd = fc.AsyncCommand<Model, System, false>;

class ModelError extends Error {}

function fail(what: string, problems: string[] | string): never {
  throw new ModelError(`${what}:\n  ${(Array.isArray(problems) ? problems : [problems]).slice(0, 30).join("\n  ")}`);
}

function expectNone(what: string, problems: string[]): void {
  if (problems.length > 0) fail(what, problems);
}

// ---------------------------------------------------------------------------
// Paths the commands pick from

/** Names as bytes: `n\udcff.txt` is `n\xff.txt` on disk, and `\udcfe` a folder named with the byte 0xfe (neither is UTF-8). */
const BYTE_NAMED_FILE = "n\udcff.txt";
const BYTE_NAMED_DIR = "\udcfe";
const FILES = ["a.txt", "b.txt", "h.sh", "src/x.ts", "src/x.test.ts", "src/x.md", "src/y.ts", "src/z.ts", "d/e.txt", "d/f/g.txt", "moved/e.txt", "moved/f/g.txt", "moved/f/f/g.txt", "d/f/f/g.txt", "d/many/m-007.txt", "d/many/m-120.txt", "d/many/added.txt", "moved/many/m-064.txt", "debug.log", "d/trace.log", "node_modules/p/i.js", SPARSE_IMAGE, BYTE_NAMED_FILE, `${BYTE_NAMED_DIR}/k.txt`, `d/${BYTE_NAMED_DIR}.txt`];
const DIRS = ["d", "d/f", "src", "empty", "d/empty2", "moved", "moved/f", BYTE_NAMED_DIR];
/** Names of the same file (`ln from to`), among files in and out of folders that move. */
const HARD_LINK_NAMES = ["a.txt", "b.txt", "src/y.ts", "src/z.ts", "d/e.txt", "d/f/g.txt", "moved/e.txt", BYTE_NAMED_FILE, `${BYTE_NAMED_DIR}/k.txt`];
/** The file an agent's tool rewrites in place while a checkpoint reads it. */
const HOT_FILE = "hot.bin";
const HOT_SIZE = 256 * 1024;
/** Files written sparse (most of their size in holes). */
const SPARSE_FILES = [SPARSE_IMAGE, SPARSE_IMAGE, "b.txt", "d/f/g.txt", BYTE_NAMED_FILE];
/** Folder moves (`mv d moved`): the folders hold subfolders, whose paths change under a watcher's feet. */
const FOLDER_MOVES: [from: string, to: string][] = [
  ["d", "moved"],
  ["moved", "d"],
  ["d", "moved/f"],
  ["moved", "d/f"],
];
const LINKS = ["link", "src/y.ts", "d/f", "src/w.ts"];
const LINK_TARGETS = ["a.txt", "src", "../outside.txt", "missing", "d/e.txt", "../../outside.txt", BYTE_NAMED_FILE];
const PRIMARIES = [null, null, "src/x.ts", "src", "d", "a.txt"];
const ANY_PATH = [...new Set([...FILES, ...DIRS, ...LINKS])];

function contentFor(rel: string, version: number): string {
  if (rel === "src/x.ts") {
    if (version % 3 === 0) return `import { y } from "./y";\nexport const x = ${version};\n`;
    if (version % 3 === 1) return `import { z } from "./z";\nexport const x = ${version};\n`;
  }
  return `${rel} version ${version}\n`;
}

/** Each ancestor of `rel` is a real folder, or absent (so `mkdir -p` works and nothing goes through a link). */
function parentsWritable(tree: TreeState, rel: string): boolean {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) {
    const node = tree.get(parts.slice(0, i).join("/"));
    if (node && node.kind !== "dir") return false;
  }
  return true;
}

/** A workspace path as bytes: names that are not UTF-8 must reach the file system as they are. */
const abs = (r: System, rel: string) => testPathBytes(path.join(r.root, rel));
const parentOf = (r: System, rel: string) => testPathBytes(path.dirname(path.join(r.root, rel)));

// ---------------------------------------------------------------------------
// Shared checks

function isTrpc(error: unknown, code: TRPCError["code"]): boolean {
  return error instanceof TRPCError && error.code === code;
}

const RECOVERY_EVENT = (e: { kind: string; outcome: string; error: string | null }) => e.kind === "recover" || (e.kind === "rollback" && e.outcome === "failed" && (e.error ?? "").startsWith("interrupted"));

/** Each operation leaves exactly its own history rows (and, after a crash, the recovery's). */
async function expectEvents(m: Model, r: System, what: string, expected: [kind: string, outcome: string][], options: { crashed: boolean; expires?: number } = { crashed: false }): Promise<void> {
  const fresh = await r.newEvents();
  const own = fresh.filter((e) => !(options.crashed && RECOVERY_EVENT(e)) && e.kind !== "checkpoint.expire");
  const expires = fresh.filter((e) => e.kind === "checkpoint.expire").length;
  const got = own.map((e) => `${e.kind}:${e.outcome}`).sort();
  const want = expected.map(([k, o]) => `${k}:${o}`).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`${what}: history rows`, [`expected ${want.join(", ") || "none"}`, `got ${got.join(", ") || "none"}`, ...fresh.map((e) => JSON.stringify(e))]);
  if (expires !== (options.expires ?? 0)) fail(`${what}: checkpoint.expire rows`, `expected ${options.expires ?? 0}, got ${expires}`);
  void m;
}

/**
 * After a command that recovers (any CLI command starts by completing interrupted
 * rollbacks; every mutation through the API completes its component's journal
 * first), the crash is behind us: no journal is left, and the crashed rollback's
 * scope is either exactly its checkpoint (completed) or exactly as before (it
 * never started), never half of each.
 */
async function settleCrash(m: Model, r: System, what: string, options: { viaCli: boolean; changedTree: boolean }): Promise<void> {
  const crashed = m.crashed;
  if (!crashed) return;
  m.crashed = null;
  expectNone(`${what}: journals after recovery`, r.journals());
  if (options.viaCli) {
    const running = await r.core.db.rollback.count({ where: { outcome: "running" } });
    if (running > 0) fail(`${what}: rollback rows still running after a CLI start`, `${running}`);
    m.reconcilePending = false;
  }
  if (options.changedTree || crashed.editedSince) return;
  const target = m.checkpoints.find((c) => c.id === crashed.checkpointId);
  if (!target) return;
  const now = scopedView(r.tree(), crashed.scope);
  const asTarget = viewDifferences(withLeftovers(target.view, now, r.tree(), crashed.scope), now, leftoverDirs(target.view, now, r.tree(), crashed.scope), { skip: target.unstable });
  const asBefore = viewDifferences(crashed.before, now);
  if (asTarget.length > 0 && asBefore.length > 0) fail(`${what}: after a crash the scope is half old, half new`, [...asTarget.map((p) => `vs checkpoint: ${p}`), ...asBefore.map((p) => `vs before: ${p}`)]);
  // The memory store goes with the files: completed with them, or left with them.
  const memory = r.memoryContents();
  const completedMemory = target.memory ?? crashed.memoryBefore;
  const allowed = [...(asTarget.length === 0 ? [completedMemory] : []), ...(asBefore.length === 0 ? [crashed.memoryBefore] : [])];
  if (!allowed.includes(memory)) fail(`${what}: after a crash the memory store does not go with the files`, [`files ${asTarget.length === 0 ? "completed" : "as before"}`, `store ${memory}`]);
}

/** Folders the checkpoint did not have that stay because they hold ignored files. */
function leftoverDirs(checkpoint: TreeState, live: TreeState, tree: TreeState, scope: Scope): Set<string> {
  const out = new Set<string>();
  for (const [rel, node] of live) {
    if (node.kind !== "dir" || checkpoint.has(rel)) continue;
    for (const other of tree.keys()) {
      if (other.startsWith(`${rel}/`) && (isIgnored(other) || !inScope(scope, other))) {
        out.add(rel);
        break;
      }
    }
  }
  return out;
}

function withLeftovers(checkpoint: TreeState, live: TreeState, tree: TreeState, scope: Scope): TreeState {
  const expected = new Map(checkpoint);
  for (const rel of leftoverDirs(checkpoint, live, tree, scope)) expected.set(rel, live.get(rel) as NonNullable<ReturnType<TreeState["get"]>>);
  return expected;
}

function changeSet(changes: Map<string, ChangeKind>): { restore: string[]; delete: string[] } {
  const restore: string[] = [];
  const remove: string[] = [];
  for (const [rel, kind] of changes) (kind === "added" ? remove : restore).push(rel);
  return { restore: restore.sort(), delete: remove.sort() };
}

interface RollbackOutcome {
  refused: boolean;
  refusal?: string;
  restored?: string[];
  deleted?: string[];
  safetyCheckpointId?: string;
}

/** Checks a rollback's result and the tree and store it left against the model; records the safety checkpoint. */
function checkRollback(m: Model, r: System, what: string, cp: ModelCheckpoint, before: TreeState, memoryBefore: string, outcome: RollbackOutcome, crashedBefore: boolean): void {
  const after = r.tree();
  const memory = r.memoryContents();
  const expectation = expectRollback(cp.view, cp.scope, before, cp.unstable);
  if (!crashedBefore && expectation.refused !== outcome.refused) {
    fail(`${what}: ${expectation.refused ? "expected a refusal (paths in the way)" : "refused unexpectedly"}`, outcome.refusal ?? "it ran");
  }
  if (outcome.refused) {
    // Refused because the crashed rollback it completes first is blocked by files put in its way: its journal stays
    // for `recover`, and the operator's part follows (Checked clears the way).
    if (crashedBefore && r.journals().length > 0 && /could not be completed/.test(outcome.refusal ?? "")) fail(`${what}: refused`, outcome.refusal as string);
    r.counters.refusals++;
    if (!crashedBefore) expectNone(`${what}: a refused rollback changed the tree`, treeDifferences(before, after, { inode: true }));
    if (!crashedBefore && memory !== memoryBefore) fail(`${what}: a refused rollback changed the memory store`, memory);
    expectNone(`${what}: journal after a refusal (${outcome.refusal ?? ""})`, r.journals());
    return;
  }
  // A checkpoint taken with its database puts the store back exactly; one without leaves it alone.
  const expectedMemory = cp.memory ?? (crashedBefore ? null : memoryBefore);
  if (expectedMemory !== null && memory !== expectedMemory) fail(`${what}: the memory store is not ${cp.memory !== null ? "the checkpoint's" : "as it was"}`, [`expected ${expectedMemory}`, `got ${memory}`]);
  r.counters.rollbacks++;
  mutated(m, "other");
  if (cp.memory !== null && memoryBefore.startsWith("raw:")) r.counters.brokenStoresReplaced++;
  const live = scopedView(after, cp.scope);
  expectNone(`${what}: the tree is not the checkpoint`, viewDifferences(withLeftovers(cp.view, live, after, cp.scope), live, leftoverDirs(cp.view, live, after, cp.scope), { skip: cp.unstable }));
  // What the checkpoint could not read is left exactly as it was.
  for (const rel of cp.unstable) {
    if (!crashedBefore && JSON.stringify(before.get(rel) ?? null) !== JSON.stringify(after.get(rel) ?? null)) fail(`${what}: ${rel}, unstable in the checkpoint, was touched`, [JSON.stringify(before.get(rel)), JSON.stringify(after.get(rel))]);
  }
  // (Completing a crashed rollback first may rightly change what lies outside this checkpoint's scope.)
  expectNone(`${what}: ignored or out-of-scope entries were touched`, untouchableDifferences(before, after, crashedBefore ? { kind: "all" } : cp.scope, cp.view.keys()));
  if (!crashedBefore) {
    // What the diff showed (the model's changes) is exactly what the rollback did.
    const expected = changeSet(expectedChanges(cp.view, scopedView(before, cp.scope), cp.unstable));
    const did = { restore: [...(outcome.restored ?? [])].sort(), delete: [...(outcome.deleted ?? [])].sort() };
    if (JSON.stringify(expected) !== JSON.stringify(did)) fail(`${what}: the rollback did not do exactly what the diff listed`, [`expected ${JSON.stringify(expected)}`, `did ${JSON.stringify(did)}`]);
    if (outcome.safetyCheckpointId) {
      // The safety checkpoint holds the store when the rollback replaced it.
      m.checkpoints.push({ id: outcome.safetyCheckpointId, scope: cp.scope, view: scopedView(before, cp.scope), pinned: false, memory: cp.memory !== null ? memoryBefore : null, unstable: NONE });
      m.undo = outcome.safetyCheckpointId;
    }
  } else {
    m.undo = null;
  }
  expectNone(`${what}: journal left`, r.journals());
}

/**
 * A manifest's entries as a view to compare with the tree's: what `hardlinkTo` says
 * becomes a shared inode number (the view's way of saying "one file, two names").
 */
function heldView(r: System, entries: ReturnType<System["manifest"]>["entries"]): TreeState {
  const inode = new Map<string, number>();
  entries.forEach((e, i) => inode.set(e.path, i + 1));
  return new Map(
    entries.map((e): [string, NodeState] => [
      e.path,
      {
        kind: e.kind as NodeState["kind"],
        mode: e.mode,
        // Only a sparse entry's size counts (with no blocks, it reads as sparse).
        size: e.sparse ? e.size : 0,
        blocks: 0,
        mtimeMs: e.mtimeMs,
        ino: inode.get(e.hardlinkTo ?? e.path) ?? 0,
        sha256: r.contentSha(e),
        linkTarget: e.linkTarget,
      },
    ]),
  );
}

function pick<T>(list: readonly T[], index: number): T {
  return list[index % list.length] as T;
}

async function cliRollback(r: System, checkpointId: string, paths: readonly string[] = []): Promise<{ result: CliResult; outcome: RollbackOutcome | null }> {
  const result = await r.cli(["rollback", checkpointId, "--yes", ...paths.flatMap((p) => ["--path", p])]);
  if (result.status === 0) {
    const body = jsonOf<{ restoredPaths: string[]; deletedPaths: string[]; safetyCheckpointId: string }>(result);
    return { result, outcome: { refused: false, restored: body.restoredPaths, deleted: body.deletedPaths, safetyCheckpointId: body.safetyCheckpointId } };
  }
  if (result.status === 3) return { result, outcome: { refused: true, refusal: jsonOf<{ error: { message: string } }>(result).error.message } };
  return { result, outcome: null };
}

function describeCli(result: CliResult): string {
  return `exit ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`;
}

// ---------------------------------------------------------------------------
// Workspace edits

abstract class Edit implements Cmd {
  abstract check(m: Readonly<Model>): boolean;
  abstract apply(r: System): void;
  abstract toString(): string;
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    // Once the workspace is edited after a crash, what recovery will find is no longer the crash's own state.
    if (m.crashed) m.crashed.editedSince = true;
    this.apply(r);
  }
}

/** Edits are only generated against the tree as it is when they run: check() sees the real tree through this hook. */
let currentTree: () => TreeState = () => new Map();
let currentMemoryIsDatabase: () => boolean = () => true;
export function bindTree(read: () => TreeState, memoryIsDatabase: () => boolean): void {
  currentTree = read;
  currentMemoryIsDatabase = memoryIsDatabase;
}

class WriteFile extends Edit {
  constructor(
    readonly rel: string,
    readonly version: number,
  ) {
    super();
  }
  check(): boolean {
    const tree = currentTree();
    return parentsWritable(tree, this.rel) && tree.get(this.rel)?.kind !== "dir";
  }
  apply(r: System): void {
    const file = abs(r, this.rel);
    fs.mkdirSync(parentOf(r, this.rel), { recursive: true });
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(file);
    this.write(file);
  }
  protected write(file: Buffer): void {
    fs.writeFileSync(file, contentFor(this.rel, this.version));
  }
  toString() {
    return `write ${this.rel} v${this.version}`;
  }
}

class Remove extends Edit {
  constructor(readonly rel: string) {
    super();
  }
  check(): boolean {
    return currentTree().has(this.rel);
  }
  apply(r: System): void {
    fs.rmSync(abs(r, this.rel), { recursive: true, force: true });
  }
  toString() {
    return `rm -rf ${this.rel}`;
  }
}

class Chmod extends Edit {
  constructor(
    readonly rel: string,
    readonly mode: number,
  ) {
    super();
  }
  check(): boolean {
    const kind = currentTree().get(this.rel)?.kind;
    return kind === "file" || kind === "dir";
  }
  apply(r: System): void {
    const dir = currentTree().get(this.rel)?.kind === "dir";
    fs.chmodSync(abs(r, this.rel), dir ? (this.mode & 0o100 ? 0o755 : 0o700) : this.mode);
  }
  toString() {
    return `chmod ${this.mode.toString(8)} ${this.rel}`;
  }
}

class Symlink extends Edit {
  constructor(
    readonly rel: string,
    readonly target: string,
  ) {
    super();
  }
  check(): boolean {
    return parentsWritable(currentTree(), this.rel);
  }
  apply(r: System): void {
    const link = abs(r, this.rel);
    fs.mkdirSync(parentOf(r, this.rel), { recursive: true });
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(testPathBytes(this.target), link);
  }
  toString() {
    return `ln -s ${this.target} ${this.rel}`;
  }
}

class Mkdir extends Edit {
  constructor(readonly rel: string) {
    super();
  }
  check(): boolean {
    const tree = currentTree();
    return parentsWritable(tree, this.rel) && !tree.has(this.rel);
  }
  apply(r: System): void {
    fs.mkdirSync(abs(r, this.rel), { recursive: true });
  }
  toString() {
    return `mkdir -p ${this.rel}`;
  }
}

/** A file becomes a folder (with a file inside, and sometimes an ignored one). */
class FileToDir extends Edit {
  constructor(
    readonly rel: string,
    readonly withIgnored: boolean,
  ) {
    super();
  }
  check(): boolean {
    return currentTree().get(this.rel)?.kind === "file";
  }
  apply(r: System): void {
    const dir = abs(r, this.rel);
    fs.rmSync(dir);
    fs.mkdirSync(dir);
    fs.writeFileSync(abs(r, `${this.rel}/inner.txt`), "inside what was a file\n");
    if (this.withIgnored) fs.writeFileSync(abs(r, `${this.rel}/inner.log`), "an ignored file\n");
  }
  toString() {
    return `file ${this.rel} -> folder${this.withIgnored ? " (with an ignored file)" : ""}`;
  }
}

class DirToFile extends Edit {
  constructor(readonly rel: string) {
    super();
  }
  check(): boolean {
    return currentTree().get(this.rel)?.kind === "dir";
  }
  apply(r: System): void {
    fs.rmSync(abs(r, this.rel), { recursive: true });
    fs.writeFileSync(abs(r, this.rel), "a file where a folder was\n");
  }
  toString() {
    return `folder ${this.rel} -> file`;
  }
}

/** A folder renamed as a whole, subfolders included (`mv from to`), as a refactor moves a module. */
class MoveDir extends Edit {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super();
  }
  check(): boolean {
    const tree = currentTree();
    return tree.get(this.from)?.kind === "dir" && !tree.has(this.to) && parentsWritable(tree, this.to) && !`${this.to}/`.startsWith(`${this.from}/`);
  }
  apply(r: System): void {
    fs.mkdirSync(parentOf(r, this.to), { recursive: true });
    fs.renameSync(abs(r, this.from), abs(r, this.to));
  }
  toString() {
    return `mv ${this.from} ${this.to}`;
  }
}

/** A folder with subfolders made elsewhere and moved into the workspace in one rename (an unpacked archive, a generated module). */
class MoveIn extends Edit {
  constructor(
    readonly to: string,
    readonly version: number,
  ) {
    super();
  }
  check(): boolean {
    const tree = currentTree();
    return !tree.has(this.to) && parentsWritable(tree, this.to);
  }
  apply(r: System): void {
    const staging = fs.mkdtempSync(path.join(r.dirs.base, "staging-"));
    const made = path.join(staging, "module");
    fs.mkdirSync(path.join(made, "f", "deeper"), { recursive: true });
    fs.writeFileSync(path.join(made, "e.txt"), contentFor(`${this.to}/e.txt`, this.version));
    fs.writeFileSync(path.join(made, "f", "g.txt"), contentFor(`${this.to}/f/g.txt`, this.version));
    fs.writeFileSync(path.join(made, "f", "deeper", "h.txt"), "deep inside a moved-in folder\n");
    fs.mkdirSync(parentOf(r, this.to), { recursive: true });
    fs.renameSync(made, abs(r, this.to));
    fs.rmSync(staging, { recursive: true, force: true });
  }
  toString() {
    return `mv <folder with subfolders from outside> ${this.to}`;
  }
}

/** Only the modification time changes. */
class Touch extends Edit {
  constructor(
    readonly rel: string,
    readonly seconds: number,
  ) {
    super();
  }
  check(): boolean {
    return currentTree().get(this.rel)?.kind === "file";
  }
  apply(r: System): void {
    const when = new Date(Date.UTC(2030, 0, 1) + this.seconds * 1000);
    fs.utimesSync(abs(r, this.rel), when, when);
  }
  toString() {
    return `touch -d ${this.seconds}s ${this.rel}`;
  }
}

/** Another name for a file (`ln -f from to`): one inode, two names; writing either changes both. */
class HardLink extends Edit {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super();
  }
  check(): boolean {
    const tree = currentTree();
    return this.from !== this.to && tree.get(this.from)?.kind === "file" && parentsWritable(tree, this.to) && tree.get(this.to)?.kind !== "dir";
  }
  apply(r: System): void {
    fs.mkdirSync(parentOf(r, this.to), { recursive: true });
    fs.rmSync(abs(r, this.to), { force: true });
    fs.linkSync(abs(r, this.from), abs(r, this.to));
  }
  toString() {
    return `ln -f ${this.from} ${this.to}`;
  }
}

/** An editor's save: a new file written beside it and renamed over it (a new inode: a hard link to the old one is broken). */
class SaveAtomically extends Edit {
  constructor(
    readonly rel: string,
    readonly version: number,
  ) {
    super();
  }
  check(): boolean {
    return currentTree().get(this.rel)?.kind === "file";
  }
  apply(r: System): void {
    const temp = abs(r, `${this.rel}.saving`);
    fs.writeFileSync(temp, contentFor(this.rel, this.version));
    fs.renameSync(temp, abs(r, this.rel));
  }
  toString() {
    return `save ${this.rel} v${this.version} (write a new file, rename it over)`;
  }
}

/**
 * A sparse file (a disk image, a preallocated log): SPARSE_SIZE bytes, nearly all
 * holes, with the version's text written at a few offsets (one in the last,
 * partial block). Writing it over a file of the same version changes nothing but
 * its mtime.
 */
class WriteSparse extends WriteFile {
  protected override write(file: Buffer): void {
    writeSparseFile(file, Buffer.from(contentFor(this.rel, this.version)), this.version);
  }
  toString() {
    return `write ${this.rel} v${this.version} as a sparse file of ${SPARSE_SIZE} bytes`;
  }
}

/** The agent breaks its memory store: the database file overwritten with bytes that are not a database. */
class CorruptMemory extends Edit {
  constructor(readonly seed: number) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    // Only once a checkpoint holds the store: then a rollback can repair it, which is the case that matters.
    return currentMemoryIsDatabase() && m.checkpoints.some((c) => c.memory !== null);
  }
  apply(r: System): void {
    r.corruptMemory(this.seed);
  }
  toString() {
    return `overwrite the memory store with bytes that are not a database (#${this.seed})`;
  }
}

/** Time passes: files written before are no longer "racily clean", so the stat cache may vouch for them. */
class Wait implements Cmd {
  check(): boolean {
    return true;
  }
  async run(_m: Model, r: System): Promise<void> {
    r.counters.steps++;
    await new Promise((resolve) => setTimeout(resolve, RACY_WINDOW_MS + 100));
  }
  toString() {
    return "wait past the racy window";
  }
}

/**
 * The data directory as the release before tree manifests left it: every active
 * checkpoint rewritten as one flat manifest (that release's encoder). What
 * follows runs on checkpoints of both formats: rollbacks, diffs, verify,
 * retention, change records of new checkpoints against flat ones.
 */
class RewriteAsFlat implements Cmd {
  check(): boolean {
    return true;
  }
  async run(_m: Model, r: System): Promise<void> {
    r.counters.steps++;
    r.counters.flatRewrites += await downgradeToFlatManifests(r.core);
    expectNone(`after rewriting the checkpoints as flat manifests`, await r.verifyActiveCheckpoints());
  }
  toString() {
    return "rewrite every checkpoint as a flat manifest (a data directory of the earlier release)";
  }
}

/**
 * The Watchman daemon is shut down (a crash, an upgrade) and the workspace edited
 * while none runs: the next scan of the server's side meets a new daemon that
 * never saw the edit.
 */
class RestartWatchman implements Cmd {
  constructor(readonly edit: Cmd) {}
  check(m: Readonly<Model>): boolean {
    return this.edit.check(m);
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.daemonRestarts++;
    r.restartWatchman();
    await this.edit.run(m, r);
  }
  toString() {
    return `watchman shutdown-server, then ${this.edit.toString()}`;
  }
}

// ---------------------------------------------------------------------------
// Operations

/** The agent writes its memory store (one transaction; another process as far as the product knows). */
class WriteMemory extends Edit {
  constructor(readonly version: number) {
    super();
  }
  check(): boolean {
    // SQLite will not write into a file that is not a database (until a rollback puts one back).
    return currentMemoryIsDatabase();
  }
  apply(r: System): void {
    r.writeMemory(this.version);
  }
  toString() {
    return `write the memory store v${this.version}`;
  }
}

class Checkpoint implements Cmd {
  constructor(
    readonly via: "cli" | "api",
    readonly primary: string | null,
    readonly pin: boolean,
    /** With the component's database (`--db` / includeDb). */
    readonly withDb: boolean = false,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const crashed = recovering(m);
    const what = this.toString();
    let id: string | null = null;
    let refused: string | null = null;
    if (this.via === "cli") {
      const result = await r.cli(["checkpoint", "create", COMPONENT, ...(this.primary ? ["--path", this.primary] : []), ...(this.pin ? ["--pin"] : []), ...(this.withDb ? ["--db"] : [])]);
      if (result.status === 0) id = jsonOf<{ id: string }>(result).id;
      else if (result.status === 2) refused = describeCli(result);
      else fail(`${what} failed`, describeCli(result));
    } else {
      try {
        id = (await r.api.checkpoint.create({ component: COMPONENT, paths: this.primary ? [this.primary] : undefined, pinned: this.pin, includeDb: this.withDb || undefined })).id;
      } catch (error) {
        if (!isTrpc(error, "BAD_REQUEST")) throw error;
        refused = (error as Error).message;
      }
    }
    await settleCrash(m, r, what, { viaCli: this.via === "cli", changedTree: false });
    const tree = r.tree();
    const scope: Scope | null = this.primary ? partialScope(tree, this.primary, (rel) => r.contentOf(rel)) : { kind: "all" };
    // A store that is not a database cannot be snapshotted as one: the checkpoint is refused, naming it
    // (or naming the missing path, when the path is missing too: the input is checked before any snapshot).
    if (this.withDb && !r.memoryIsDatabase()) {
      if (!refused) fail(`${what}: the memory store is not a database, yet the checkpoint was taken`, id ?? "");
      const namesDatabase = /not a (SQLite )?database|cannot be read|unreadable/i.test(refused as string);
      const namesMissingPath = !scope && /does not exist in the component|excluded by its ignore rules/i.test(refused as string);
      if (!namesDatabase && !namesMissingPath) fail(`${what}: refused without saying the database is unreadable`, refused as string);
      await expectEvents(m, r, what, [["checkpoint.create", "failed"]], { crashed });
      return;
    }
    if (!scope) {
      if (!refused) fail(`${what}: the path is missing or ignored, yet the checkpoint was taken`, id ?? "");
      await expectEvents(m, r, what, [["checkpoint.create", "failed"]], { crashed });
      return;
    }
    if (refused || !id) fail(`${what}: refused`, refused ?? "no id");
    mutated(m, "checkpoint");
    await r.refreshBucket();
    const row = await r.core.db.checkpoint.findUniqueOrThrow({ where: { id } });
    const manifest = r.manifest(row.manifestSha);
    const view = scopedView(tree, scope);
    if (scope.kind === "paths" && JSON.stringify(manifest.scope.paths) !== JSON.stringify(scope.paths)) {
      fail(`${what}: scope`, [`expected ${JSON.stringify(scope.paths)}`, `got ${JSON.stringify(manifest.scope.paths)}`]);
    }
    const unstable = manifest.entries.filter((e) => e.unstable).map((e) => e.path);
    // Nothing writes while an ordinary checkpoint runs: every file reads consistently.
    if (unstable.length > 0) fail(`${what}: files recorded as unstable although nothing was writing them`, unstable);
    expectNone(`${what}: the manifest is not the tree`, viewDifferences(view, heldView(r, manifest.entries)));
    expectNone(`${what}: its change records`, await changeRecordProblems(r, id));
    if (manifest.entries.some((e) => e.hardlinkTo !== undefined)) r.counters.hardLinkCheckpoints++;
    if (manifest.entries.some((e) => e.sparse !== undefined)) r.counters.sparseCheckpoints++;
    const databases = (manifest.databases ?? []).map((d) => d.target);
    if (JSON.stringify(databases) !== JSON.stringify(this.withDb ? [`sqlite:${MEMORY_DB}`] : [])) fail(`${what}: the manifest's databases`, databases);
    m.checkpoints.push({ id, scope, view, pinned: this.pin, memory: this.withDb ? r.memoryContents() : null, unstable: NONE });
    await expectEvents(m, r, what, [["checkpoint.create", "succeeded"]], { crashed });
  }
  toString() {
    return `checkpoint create via ${this.via}${this.primary ? ` --path ${this.primary}` : ""}${this.pin ? " --pin" : ""}${this.withDb ? " --db" : ""}`;
  }
}

/**
 * An agent's turn under a hook: a whole-component checkpoint through the API before
 * each of its steps, each step an edit (one that no longer applies to the tree as it
 * is by then is skipped). With Watchman, each checkpoint after the first is made from
 * the last one's tree and the paths Watchman reported; each is checked against the
 * tree like any other.
 */
class CheckpointedSteps implements Cmd {
  constructor(readonly edits: Cmd[]) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: System): Promise<void> {
    const checkpoint = new Checkpoint("api", null, false);
    await checkpoint.run(m, r);
    for (const edit of this.edits) {
      if (!edit.check(m)) continue;
      r.log.push(`  (step) ${edit.toString()}`);
      await edit.run(m, r);
      await checkpoint.run(m, r);
    }
  }
  toString() {
    return `checkpoint create via api before each of: ${this.edits.map((e) => e.toString()).join("; ")}`;
  }
}

/**
 * A checkpoint while another process rewrites a file in place, the way a tool
 * rewrites a file it owns (same size, one pwrite of the whole file: version A,
 * then B, then A...; `pauseMs`: at most this long between writes). The checkpoint
 * holds one whole version, or records the file as unstable (then its rollbacks
 * leave it alone): never bytes of two moments. Every other entry is the tree's.
 */
class TornCheckpoint implements Cmd {
  constructor(
    readonly via: "cli" | "api",
    readonly pauseMs: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    // (The command it runs would first complete a crashed rollback, which may rightly remove the file the writer writes.)
    const node = currentTree().get(HOT_FILE);
    return m.crashed === null && (node === undefined || node.kind === "file");
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const crashed = recovering(m);
    const what = this.toString();
    // The writer edits the tree: a crashed rollback's recovery will not find the crash's own state.
    if (m.crashed) m.crashed.editedSince = true;
    const file = abs(r, HOT_FILE);
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.size !== HOT_SIZE) fs.writeFileSync(file, Buffer.alloc(HOT_SIZE, VERSION_A));
    const writer = startInPlaceWriter(file.toString(), HOT_SIZE, this.pauseMs);
    const exited = new Promise((resolve) => writer.once("exit", resolve));
    let id: string;
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (this.via === "cli") {
        const result = await r.cli(["checkpoint", "create", COMPONENT]);
        if (result.status !== 0) fail(`${what} failed`, describeCli(result));
        id = jsonOf<{ id: string }>(result).id;
      } else {
        id = (await r.api.checkpoint.create({ component: COMPONENT })).id;
      }
    } finally {
      writer.kill("SIGKILL");
      await exited;
    }
    await settleCrash(m, r, what, { viaCli: this.via === "cli", changedTree: false });
    mutated(m, "checkpoint");
    await r.refreshBucket();
    const row = await r.core.db.checkpoint.findUniqueOrThrow({ where: { id } });
    const manifest = r.manifest(row.manifestSha);
    const entry = manifest.entries.find((e) => e.path === HOT_FILE);
    if (!entry || entry.kind !== "file") fail(`${what}: ${HOT_FILE} is not in the checkpoint`, JSON.stringify(entry));
    const view = scopedView(r.tree(), { kind: "all" });
    const unstable = new Set<string>();
    if (entry.unstable) {
      if (entry.sha256 !== undefined) fail(`${what}: an unstable file with content`, entry.sha256);
      unstable.add(HOT_FILE);
      view.delete(HOT_FILE);
      r.counters.unstableFiles++;
    } else {
      const version = versionOf(r.storedObject(entry.sha256 as string), HOT_SIZE);
      if (version !== "A" && version !== "B") fail(`${what}: ${HOT_FILE} was stored as ${version}`, entry.sha256 as string);
      view.set(HOT_FILE, { ...(view.get(HOT_FILE) as NodeState), sha256: entry.sha256, mtimeMs: entry.mtimeMs, mode: entry.mode });
    }
    const others = manifest.entries.filter((e) => e.unstable && e.path !== HOT_FILE).map((e) => e.path);
    if (others.length > 0) fail(`${what}: files nobody was writing recorded as unstable`, others);
    expectNone(`${what}: the manifest is not the tree`, viewDifferences(view, heldView(r, manifest.entries), new Set(), { skip: unstable }));
    m.checkpoints.push({ id, scope: { kind: "all" }, view, pinned: false, memory: null, unstable });
    await expectEvents(m, r, what, [["checkpoint.create", "succeeded"]], { crashed });
  }
  toString() {
    return `checkpoint create via ${this.via} while another process rewrites ${HOT_FILE} in place (pauses up to ${this.pauseMs} ms)`;
  }
}

class Diff implements Cmd {
  constructor(
    readonly via: "cli" | "api",
    readonly index: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const crashed = recovering(m);
    type DiffBody = Record<"added" | "modified" | "deleted" | "modeChanged" | "typeChanged" | "linkChanged" | "mtimeChanged", { path: string }[]> & {
      unstable: string[];
      databases: { target: string; changed: boolean }[];
    };
    let diff: DiffBody;
    if (this.via === "cli") {
      const result = await r.cli(["checkpoint", "diff", cp.id]);
      if (result.status !== 0) fail(`diff of ${cp.id} failed`, describeCli(result));
      diff = jsonOf<DiffBody>(result);
      await settleCrash(m, r, "diff", { viaCli: true, changedTree: false });
    } else {
      diff = await r.api.checkpoint.diff({ id: cp.id });
    }
    const got = new Map<string, ChangeKind>();
    for (const kind of ["added", "modified", "deleted", "modeChanged", "typeChanged", "linkChanged", "mtimeChanged"] as const) for (const e of diff[kind]) got.set(e.path, kind);
    const expected = expectedChanges(cp.view, scopedView(r.tree(), cp.scope), cp.unstable);
    const problems: string[] = [];
    if (JSON.stringify(diff.unstable) !== JSON.stringify([...cp.unstable].sort())) problems.push(`unstable: expected ${JSON.stringify([...cp.unstable])}, got ${JSON.stringify(diff.unstable)}`);
    for (const [rel, kind] of expected) if (got.get(rel) !== kind) problems.push(`${rel}: expected ${kind}, got ${got.get(rel) ?? "nothing"}`);
    for (const [rel, kind] of got) if (!expected.has(rel)) problems.push(`${rel}: unexpected ${kind}`);
    // The store: its tables and row counts against the checkpoint's (only a checkpoint taken with it has it).
    const databases = diff.databases.map((d) => `${d.target}:${d.changed}`);
    const expectedDatabases = cp.memory === null ? [] : [`sqlite:${MEMORY_DB}:${System.memoryShape(cp.memory) !== System.memoryShape(r.memoryContents())}`];
    if (JSON.stringify(databases) !== JSON.stringify(expectedDatabases)) problems.push(`databases: expected ${JSON.stringify(expectedDatabases)}, got ${JSON.stringify(databases)}`);
    expectNone(`diff of ${cp.id} via ${this.via}`, problems);
    await expectEvents(m, r, "diff", [], { crashed });
  }
  toString() {
    return `checkpoint diff via ${this.via} (#${this.index})`;
  }
}

class Plan implements Cmd {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const tree = r.tree();
    const expectation = expectRollback(cp.view, cp.scope, tree, cp.unstable);
    let plan: Awaited<ReturnType<System["api"]["rollback"]["plan"]>>;
    try {
      plan = await r.api.rollback.plan({ checkpointId: cp.id });
    } catch (error) {
      if (!isTrpc(error, "CONFLICT")) throw error;
      if (!expectation.refused && m.crashed === null) fail(`plan of ${cp.id} refused unexpectedly`, (error as Error).message);
      m.plan = null;
      await expectEvents(m, r, "plan", [], { crashed: recovering(m) });
      return;
    }
    if (expectation.refused && m.crashed === null) fail(`plan of ${cp.id}: expected a refusal (paths in the way)`, JSON.stringify(plan.restore));
    const expected = changeSet(expectedChanges(cp.view, scopedView(tree, cp.scope), cp.unstable));
    const got = { restore: plan.restore.map((x) => x.path).sort(), delete: plan.delete.map((x) => x.path).sort() };
    if (JSON.stringify(expected) !== JSON.stringify(got)) fail(`plan of ${cp.id}`, [`expected ${JSON.stringify(expected)}`, `got ${JSON.stringify(got)}`]);
    if (JSON.stringify(plan.unstable) !== JSON.stringify([...cp.unstable].sort())) fail(`plan of ${cp.id}: left alone as unstable`, [`expected ${JSON.stringify([...cp.unstable])}`, `got ${JSON.stringify(plan.unstable)}`]);
    // The store is replaced whole when the checkpoint holds it, whatever it holds now.
    const databases = plan.databases.map((d) => `${d.target}:${d.action}`);
    if (JSON.stringify(databases) !== JSON.stringify(cp.memory === null ? [] : [`sqlite:${MEMORY_DB}:replace`])) fail(`plan of ${cp.id}: databases`, databases);
    m.plan = { checkpointId: cp.id, token: plan.confirmToken, view: scopedView(tree, cp.scope), expired: false };
    await expectEvents(m, r, "plan", [], { crashed: recovering(m) });
  }
  toString() {
    return `rollback.plan (#${this.index})`;
  }
}

/** rollback.execute with the confirm token of the last plan. */
class Execute implements Cmd {
  check(m: Readonly<Model>): boolean {
    return m.plan !== null;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const plan = m.plan as NonNullable<Model["plan"]>;
    m.plan = null;
    const crashed = recovering(m);
    const halfDone = m.crashed !== null;
    const cp = m.checkpoints.find((c) => c.id === plan.checkpointId);
    const before = r.tree();
    const memoryBefore = r.memoryContents();
    let outcome: RollbackOutcome;
    try {
      const done = await r.api.rollback.execute({ checkpointId: plan.checkpointId, confirmToken: plan.token });
      outcome = { refused: false, restored: done.restoredPaths, deleted: done.deletedPaths, safetyCheckpointId: done.safetyCheckpointId ?? undefined };
    } catch (error) {
      // (A checkpoint retention expired and swept is gone altogether: 404.)
      if (isTrpc(error, "BAD_REQUEST") || (isTrpc(error, "NOT_FOUND") && !cp)) {
        // Refused: the checkpoint expired, the token expired, or the workspace is not what was planned on.
        const message = (error as Error).message;
        const changed = cp ? viewDifferences(plan.view, scopedView(before, cp.scope), new Set(), { mtimeTo: "ms" }).length > 0 : true;
        if (!cp || plan.expired || halfDone || changed) {
          // A checkpoint that no longer exists at all is a 404, answered before the component is even
          // looked at: no rollback was tried (no row), and nothing was recovered either.
          const gone = isTrpc(error, "NOT_FOUND");
          if (!gone) await settleCrash(m, r, "execute", { viaCli: false, changedTree: true });
          await expectEvents(m, r, "execute", gone ? [] : [["rollback", "failed"]], { crashed });
          return;
        }
        fail("rollback.execute refused a token for an unchanged workspace", message);
      }
      if (isTrpc(error, "CONFLICT") && cp) {
        outcome = { refused: true, refusal: (error as Error).message };
      } else throw error;
    }
    if (!cp) fail("rollback.execute ran for a checkpoint the model saw expire", plan.checkpointId);
    if (!outcome.refused && !halfDone) {
      expectNone("rollback.execute ran although the workspace changed since the plan", viewDifferences(plan.view, scopedView(before, cp.scope), new Set(), { mtimeTo: "ms" }));
    }
    checkRollback(m, r, "rollback.execute", cp, before, memoryBefore, outcome, halfDone);
    await settleCrash(m, r, "execute", { viaCli: false, changedTree: true });
    await expectEvents(m, r, "execute", [["rollback", outcome.refused ? "failed" : "succeeded"]], { crashed });
  }
  toString() {
    return "rollback.execute with the plan's token";
  }
}

class Rollback implements Cmd {
  constructor(
    readonly index: number,
    readonly undo: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return this.undo ? m.undo !== null && m.checkpoints.some((c) => c.id === m.undo) : m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = this.undo ? (m.checkpoints.find((c) => c.id === m.undo) as ModelCheckpoint) : pick(m.checkpoints, this.index);
    const crashed = recovering(m);
    const halfDone = m.crashed !== null;
    const before = r.tree();
    const memoryBefore = r.memoryContents();
    const { result, outcome } = await cliRollback(r, cp.id);
    if (!outcome) fail(`rollback ${cp.id} --yes failed`, describeCli(result));
    checkRollback(m, r, this.toString(), cp, before, memoryBefore, outcome, halfDone);
    await settleCrash(m, r, "rollback", { viaCli: true, changedTree: true });
    // A refusal before the lock-free checks (obstacles) is still a rollback that was tried.
    await expectEvents(m, r, "rollback", [["rollback", outcome.refused ? "failed" : "succeeded"]], { crashed });
  }
  toString() {
    return this.undo ? "undo the last rollback (rollback to its safety checkpoint) via cli" : `rollback --yes via cli (#${this.index})`;
  }
}

/**
 * `rollback <id> --path p [--path q]`: only those paths (each a file, or a folder with
 * all under it) go back to the checkpoint. The model treats it as a rollback of the
 * checkpoint narrowed to those paths: the same expectation, nothing else touched,
 * the databases left alone, and a safety checkpoint of those paths only, which is
 * what its undo restores. The paths are picked when it runs, among what the
 * checkpoint holds and what the workspace has in its scope.
 */
class PathRollback implements Cmd {
  constructor(
    readonly index: number,
    readonly pathIndexes: readonly number[],
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const before = r.tree();
    const candidates = [...new Set([...cp.view.keys(), ...scopedView(before, cp.scope).keys()])].sort();
    const paths: string[] = [];
    for (const i of this.pathIndexes) {
      const rel = candidates.length > 0 ? pick(candidates, i) : undefined;
      // Two paths where one holds the other would restore the inner one twice: keep the first.
      if (rel !== undefined && !paths.some((p) => inScope({ kind: "paths", paths: [p] }, rel) || inScope({ kind: "paths", paths: [rel] }, p))) paths.push(rel);
    }
    if (paths.length === 0) return;
    const scope: Scope = { kind: "paths", paths };
    const narrowed: ModelCheckpoint = { ...cp, scope, view: scopedView(cp.view, scope), memory: null, unstable: new Set([...cp.unstable].filter((rel) => inScope(scope, rel))) };
    const crashed = recovering(m);
    const halfDone = m.crashed !== null;
    const memoryBefore = r.memoryContents();
    const { result, outcome } = await cliRollback(r, cp.id, paths);
    if (!outcome) fail(`${this.toString()} of ${cp.id} ${paths.join(", ")} failed`, describeCli(result));
    checkRollback(m, r, `${this.toString()}: ${paths.join(", ")}`, narrowed, before, memoryBefore, outcome, halfDone);
    if (!outcome.refused) r.counters.pathRollbacks++;
    await settleCrash(m, r, "rollback", { viaCli: true, changedTree: true });
    await expectEvents(m, r, "rollback", [["rollback", outcome.refused ? "failed" : "succeeded"]], { crashed });
  }
  toString() {
    return `rollback --path via cli (#${this.index}, paths ${this.pathIndexes.join("/")})`;
  }
}

class DryRun implements Cmd {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const crashed = recovering(m);
    const result = await r.cli(["rollback", cp.id, "--dry-run"]);
    await settleCrash(m, r, "dry run", { viaCli: true, changedTree: false });
    const tree = r.tree();
    const expectation = expectRollback(cp.view, cp.scope, tree, cp.unstable);
    if (result.status === 3) {
      if (!expectation.refused) fail(`rollback ${cp.id} --dry-run refused unexpectedly`, describeCli(result));
    } else {
      if (result.status !== 0) fail(`rollback ${cp.id} --dry-run failed`, describeCli(result));
      if (expectation.refused) fail(`rollback ${cp.id} --dry-run: expected a refusal (paths in the way)`, result.stdout);
      const plan = jsonOf<{ restore: { path: string }[]; delete: { path: string }[] }>(result);
      const expected = changeSet(expectedChanges(cp.view, scopedView(tree, cp.scope), cp.unstable));
      const got = { restore: plan.restore.map((x) => x.path).sort(), delete: plan.delete.map((x) => x.path).sort() };
      if (JSON.stringify(expected) !== JSON.stringify(got)) fail(`rollback ${cp.id} --dry-run`, [`expected ${JSON.stringify(expected)}`, `got ${JSON.stringify(got)}`]);
    }
    await expectEvents(m, r, "dry run", [], { crashed });
  }
  toString() {
    return `rollback --dry-run via cli (#${this.index})`;
  }
}

class Pin implements Cmd {
  constructor(
    readonly index: number,
    readonly pinned: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const crashed = recovering(m);
    await r.api.checkpoint.pin({ id: cp.id, pinned: this.pinned });
    cp.pinned = this.pinned;
    mutated(m, "other");
    await settleCrash(m, r, "pin", { viaCli: false, changedTree: false });
    await expectEvents(m, r, "pin", [["checkpoint.pin", "succeeded"]], { crashed });
  }
  toString() {
    return `checkpoint.${this.pinned ? "pin" : "unpin"} (#${this.index})`;
  }
}

/** The clock moves on by some days, then retention runs (expire, then sweep unreferenced objects). */
class Retention implements Cmd {
  constructor(readonly days: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const crashed = recovering(m);
    const rows = await r.core.db.checkpoint.findMany({ where: { status: "active" }, select: { id: true, createdAt: true, pinned: true } });
    const newest = rows.reduce<(typeof rows)[number] | null>((a, b) => (!a || b.createdAt > a.createdAt || (b.createdAt.getTime() === a.createdAt.getTime() && b.id > a.id) ? b : a), null);
    r.moveClock(this.days);
    if (m.plan) m.plan.expired = true;
    await r.api.retention.run({});
    mutated(m, "other");
    const after = new Map((await r.core.db.checkpoint.findMany({ select: { id: true, status: true } })).map((c) => [c.id, c.status]));
    let expired = 0;
    for (const row of rows) {
      if (after.get(row.id) === "active") continue;
      expired++;
      if (row.pinned) fail("retention expired a pinned checkpoint", row.id);
      if (row.id === newest?.id) fail("retention expired the newest checkpoint of the component", row.id);
    }
    m.checkpoints = m.checkpoints.filter((c) => after.get(c.id) === "active");
    if (m.undo && after.get(m.undo) !== "active") m.undo = null;
    // Retention changes no component's files: it does not complete journals (it keeps what they need).
    await expectEvents(m, r, "retention", [["retention.run", "succeeded"]], { crashed, expires: expired });
  }
  toString() {
    return `the clock moves ${this.days} days, retention run`;
  }
}

class Verify implements Cmd {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const crashed = recovering(m);
    const result = await r.cli(["checkpoint", "verify", cp.id]);
    if (result.status !== 0 || jsonOf<{ state: string }>(result).state !== "verified") fail(`verify ${cp.id}`, describeCli(result));
    if (m.crashed && r.journals().length > 0) {
      // Verify reads the store only: it still succeeds when the recovery it starts with is refused by files put in
      // the interrupted rollback's way (the refusal is on stderr). The operator clears them, as for any command.
      const recovered = await clearRecoveryObstacles(m, r, result.stderr);
      if (!recovered) fail(`verify ${cp.id}: the interrupted rollback was neither completed nor refused for files in its way`, describeCli(result));
      else if (recovered.status !== 0) fail(`verify ${cp.id}: recover after clearing the way`, describeCli(recovered));
    }
    await settleCrash(m, r, "verify", { viaCli: true, changedTree: false });
    await expectEvents(m, r, "verify", [["checkpoint.verify", "succeeded"]], { crashed });
  }
  toString() {
    return `checkpoint verify via cli (#${this.index})`;
  }
}

/** `rollback --yes` SIGKILLed at its Nth file-system change in the workspace or the data directory. */
class Crash implements Cmd {
  constructor(
    readonly index: number,
    readonly after: number,
    readonly inData: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.checkpoints.length > 0 && m.crashed === null;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const cp = pick(m.checkpoints, this.index);
    const crashedBefore = recovering(m);
    const before = r.tree();
    const memoryBefore = r.memoryContents();
    const result = await r.cli(["rollback", cp.id, "--yes"], { fault: { after: this.after, under: this.inData ? r.dirs.dataDir : r.root } });
    if (result.signal !== "SIGKILL") {
      // Fewer changes than `after`: it simply ran (or was refused).
      const outcome: RollbackOutcome | null =
        result.status === 0
          ? (() => {
              const body = jsonOf<{ restoredPaths: string[]; deletedPaths: string[]; safetyCheckpointId: string }>(result);
              return { refused: false, restored: body.restoredPaths, deleted: body.deletedPaths, safetyCheckpointId: body.safetyCheckpointId };
            })()
          : result.status === 3
            ? { refused: true, refusal: result.stdout }
            : null;
      if (!outcome) fail(`${this} failed`, describeCli(result));
      checkRollback(m, r, this.toString(), cp, before, memoryBefore, outcome, false);
      m.reconcilePending = false;
      await expectEvents(m, r, "rollback (not killed)", [["rollback", outcome.refused ? "failed" : "succeeded"]], { crashed: crashedBefore });
      return;
    }
    r.counters.crashes++;
    if (m.bucket) m.bucket.killed = true;
    // Its start may have reconciled an earlier crash; those rows are not this rollback's.
    const events = (await r.newEvents()).filter((e) => !(crashedBefore && RECOVERY_EVENT(e)));
    // Ignored entries are never touched, even by a rollback that dies half-way.
    expectNone(`${this}: ignored entries touched`, untouchableDifferences(before, r.tree(), { kind: "all" }));
    if (events.some((e) => e.kind === "rollback" && e.outcome === "succeeded")) {
      // Killed after the rollback had finished (its history row is written with its end): the tree is
      // the checkpoint; its journal may still be there, and the next command forgets it without a change.
      expectNone(`${this}: killed after it finished, yet a journal other than its own is left`, r.journals().length > 1 ? r.journals() : []);
      const after = r.tree();
      const live = scopedView(after, cp.scope);
      expectNone(`${this}: the tree is not the checkpoint`, viewDifferences(withLeftovers(cp.view, live, after, cp.scope), live, leftoverDirs(cp.view, live, after, cp.scope), { skip: cp.unstable }));
      if (cp.memory !== null && r.memoryContents() !== cp.memory) fail(`${this}: killed after it finished, yet the memory store is not the checkpoint's`, r.memoryContents());
      m.undo = null;
      if (r.journals().length > 0) {
        m.crashed = { checkpointId: cp.id, scope: cp.scope, before: live, memoryBefore: r.memoryContents(), editedSince: false };
        m.reconcilePending = true;
      }
      return;
    }
    if (events.length > 0) fail(`${this}: history rows of a rollback killed before it finished`, events.map((e) => JSON.stringify(e)));
    m.crashed = { checkpointId: cp.id, scope: cp.scope, before: scopedView(before, cp.scope), memoryBefore, editedSince: false };
    m.reconcilePending = true;
    m.undo = null;
  }
  toString() {
    return `rollback --yes via cli, SIGKILLed at its change #${this.after} in the ${this.inData ? "data directory" : "workspace"} (#${this.index})`;
  }
}

// ---------------------------------------------------------------------------
// The S3 mode: the objects in a bucket, the data directory a cache of them

/**
 * The cache lost: `<data>/store/objects` removed whole (a wiped disk, a new
 * host with the same database). Whatever comes next reads what it needs from
 * the bucket; nothing the model expects changes.
 */
class EmptyCache implements Cmd {
  check(m: Readonly<Model>): boolean {
    return m.bucket?.inBucket === true;
  }
  async run(_m: Model, r: System): Promise<void> {
    r.counters.steps++;
    r.counters.cacheEmptied++;
    fs.rmSync(path.join(r.dirs.dataDir, "store", "objects"), { recursive: true, force: true });
  }
  toString() {
    return "rm -rf <data>/store/objects (the bucket's cache)";
  }
}

/**
 * The next CLI process (or every later one) runs with a tiny cache bound
 * (SAFETYNET_CACHE_MAX_BYTES): a process that downloaded anything trims the
 * cache when it ends, down to the tree objects and what is not uploaded yet.
 */
class TinyCache implements Cmd {
  constructor(
    readonly bytes: number,
    readonly fromNowOn: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bucket?.inBucket === true;
  }
  async run(_m: Model, r: System): Promise<void> {
    r.counters.steps++;
    r.cliEnv({ SAFETYNET_CACHE_MAX_BYTES: String(this.bytes) }, { fromNowOn: this.fromNowOn });
  }
  toString() {
    return `${this.fromNowOn ? "every later" : "the next"} CLI process runs with SAFETYNET_CACHE_MAX_BYTES=${this.bytes}`;
  }
}

/**
 * `safetynet store migrate --to local` or back `--to s3://…` (the server stopped
 * around it, as the product asks). Invisible to everything after it: the model's
 * expectations do not change.
 */
class Migrate implements Cmd {
  constructor(readonly to: "local" | "bucket") {}
  check(m: Readonly<Model>): boolean {
    // (With a crashed rollback pending, the migration's CLI start would complete it first: that is any command's story.)
    return m.bucket !== null && m.bucket.inBucket === (this.to === "local") && m.crashed === null;
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const crashed = recovering(m);
    const result = await r.migrateStore(this.to);
    if (result.status !== 0) fail(`${this} failed`, describeCli(result));
    const moved = jsonOf<{ switched: boolean; to: string }>(result);
    if (!moved.switched || (this.to === "local") !== (moved.to === "local")) fail(`${this}: not switched`, result.stdout);
    r.counters.migrations++;
    const bucket = m.bucket as BucketState;
    bucket.inBucket = this.to === "bucket";
    if (this.to === "bucket") {
      // Everything was copied, records included, before the switch (and the outbox went with the move to local).
      mutated(m, "checkpoint");
      bucket.killed = false;
    } else if (fs.existsSync(path.join(r.dirs.dataDir, "store", "outbox"))) fail(`${this}: the outbox is left`, "");
    m.reconcilePending = false;
    await expectEvents(m, r, this.toString(), [], { crashed });
  }
  toString() {
    return this.to === "local" ? "store migrate --to local (server stopped around it)" : "store migrate --to s3://… back (server stopped around it)";
  }
}

type OutageFault = "slowDown" | "internalError" | "reset";
/** What is tried while the bucket is out: a checkpoint (CLI or API), or a rollback (CLI, or API execute of a plan made just before). */
type DuringOutage = { kind: "checkpoint"; via: "cli" | "api"; primary: string | null } | { kind: "rollback"; via: "cli" | "api"; index: number };

/**
 * The bucket cannot be reached (every request answered with `fault`) while one
 * operation runs; then it is back. The operation fails cleanly (a non-zero exit,
 * a tRPC error), and nothing is recorded: no checkpoint (row or snapshot record,
 * here or in the bucket), and the workspace and the memory store exactly as a
 * refused rollback leaves them. Its history row says it failed.
 */
class BucketOutage implements Cmd {
  constructor(
    readonly fault: OutageFault,
    readonly during: DuringOutage,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bucket?.inBucket === true && m.crashed === null && !m.reconcilePending && (this.during.kind === "checkpoint" || m.checkpoints.length > 0);
  }
  async run(m: Model, r: System): Promise<void> {
    r.counters.steps++;
    const bucket = r.bucket;
    if (!bucket) fail(`${this}: no bucket`, "");
    const during = this.during;
    const cp = during.kind === "rollback" ? pick(m.checkpoints, during.index) : null;
    // An API rollback executes the plan of a moment before (planning reads; it is the execution that must fail).
    let token: string | null = null;
    if (cp && during.via === "api") {
      try {
        token = (await r.api.rollback.plan({ checkpointId: cp.id })).confirmToken;
      } catch (error) {
        if (!isTrpc(error, "CONFLICT")) throw error;
      }
      await expectEvents(m, r, `${this}: plan`, [], { crashed: false });
      // The plan was refused (paths in the way): nothing to execute.
      if (token === null) return;
    }
    const idsBefore = (await r.core.db.checkpoint.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((c) => c.id);
    const recordsBefore = await r.snapshotRecordIds();
    const before = r.tree();
    const memoryBefore = r.memoryContents();
    let failure: string | null = null;
    bucket.outage({ fault: FAULTS[this.fault] });
    try {
      if (during.kind === "checkpoint" && during.via === "cli") {
        const result = await r.cli(["checkpoint", "create", COMPONENT, ...(during.primary ? ["--path", during.primary] : [])]);
        if (result.status !== 0) failure = cliFailure(result);
      } else if (during.kind === "checkpoint") {
        failure = await apiFailure(() => r.api.checkpoint.create({ component: COMPONENT, paths: during.primary ? [during.primary] : undefined }));
      } else if (during.via === "cli") {
        const result = await r.cli(["rollback", (cp as ModelCheckpoint).id, "--yes"]);
        if (result.status !== 0) failure = cliFailure(result);
      } else {
        failure = await apiFailure(() => r.api.rollback.execute({ checkpointId: (cp as ModelCheckpoint).id, confirmToken: token as string }));
      }
    } finally {
      bucket.clear();
    }
    r.counters.outages++;
    if (failure === null) fail(`${this}: it succeeded although the bucket could not be reached`, "");
    const after = r.tree();
    const problems: string[] = [];
    const idsAfter = (await r.core.db.checkpoint.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((c) => c.id);
    if (JSON.stringify(idsAfter) !== JSON.stringify(idsBefore)) problems.push(`checkpoints before ${idsBefore.join(", ")}; after ${idsAfter.join(", ")}`);
    const recordsAfter = await r.snapshotRecordIds();
    if (JSON.stringify(recordsAfter.local) !== JSON.stringify(recordsBefore.local)) problems.push(`snapshot records here before ${recordsBefore.local.join(", ")}; after ${recordsAfter.local.join(", ")}`);
    if (JSON.stringify(recordsAfter.bucket) !== JSON.stringify(recordsBefore.bucket)) problems.push(`snapshot records in the bucket before ${recordsBefore.bucket.join(", ")}; after ${recordsAfter.bucket.join(", ")}`);
    problems.push(...treeDifferences(before, after, { inode: true }).map((p) => `workspace: ${p}`));
    if (r.memoryContents() !== memoryBefore) problems.push(`the memory store changed: ${r.memoryContents()}`);
    problems.push(...r.journals().map((j) => `journal left: ${j}`));
    if (await r.locked()) problems.push("the component lock is still held");
    expectNone(`${this}: failed (${failure}), yet`, problems);
    if (during.kind === "rollback") m.plan = null;
    await expectEvents(m, r, this.toString(), [[during.kind === "checkpoint" ? "checkpoint.create" : "rollback", "failed"]], { crashed: false });
  }
  toString() {
    const what =
      this.during.kind === "checkpoint"
        ? `checkpoint create via ${this.during.via}${this.during.primary ? ` --path ${this.during.primary}` : ""}`
        : this.during.via === "cli"
          ? `rollback --yes via cli (#${this.during.index})`
          : `rollback.plan, then rollback.execute (#${this.during.index})`;
    return `the bucket answers every request with ${this.fault} during: ${what}; then it is back`;
  }
}

/** A CLI failure as the model expects one: a non-zero exit with one JSON error naming why. */
function cliFailure(result: CliResult): string {
  const body = jsonOf<{ error?: { message?: string } }>(result);
  if (typeof body.error?.message !== "string") fail("a failed command printed no error", describeCli(result));
  return `exit ${result.status}: ${body.error.message}`;
}

/** null when `call` succeeded, else the tRPC error it failed with (anything else is the model's failure). */
async function apiFailure(call: () => Promise<unknown>): Promise<string | null> {
  try {
    await call();
    return null;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

// ---------------------------------------------------------------------------

const versions = fc.integer({ min: 0, max: 5 });
const index = fc.nat({ max: 50 });


type Weighted = { arbitrary: fc.Arbitrary<Cmd>; weight: number };

/**
 * `watcher`: the sequence runs with Watchman, which only the API's side uses: three calls in four go there;
 * `restarts`: its daemon is restarted now and then.
 */
export function commandArbitraries(options: { crashes: boolean; watcher?: boolean; restarts?: boolean; bucket?: boolean }): Weighted[] {
  const w = (weight: number, arbitrary: fc.Arbitrary<Cmd>): Weighted => ({ arbitrary, weight });
  const via = options.watcher ? fc.constantFrom<"cli" | "api">("api", "api", "api", "cli") : fc.constantFrom<"cli" | "api">("cli", "api");
  const commands: Weighted[] = [
    // Workspace edits
    w(6, fc.tuple(fc.constantFrom(...FILES), versions).map(([rel, v]) => new WriteFile(rel, v))),
    w(2, fc.constantFrom(...ANY_PATH).map((rel) => new Remove(rel))),
    w(2, fc.tuple(fc.constantFrom(...ANY_PATH), fc.constantFrom(0o644, 0o755, 0o600)).map(([rel, mode]) => new Chmod(rel, mode))),
    w(2, fc.tuple(fc.constantFrom(...LINKS), fc.constantFrom(...LINK_TARGETS)).map(([rel, target]) => new Symlink(rel, target))),
    w(1, fc.constantFrom(...DIRS).map((rel) => new Mkdir(rel))),
    w(2, fc.tuple(fc.constantFrom(...FILES), fc.boolean()).map(([rel, ignored]) => new FileToDir(rel, ignored))),
    w(1, fc.constantFrom(...DIRS, "src/x.ts", "a.txt").map((rel) => new DirToFile(rel))),
    w(2, fc.tuple(fc.constantFrom(...FILES), fc.nat({ max: 1000 })).map(([rel, s]) => new Touch(rel, s))),
    w(3, fc.constantFrom(...FOLDER_MOVES).map(([from, to]) => new MoveDir(from, to))),
    w(2, fc.tuple(fc.constantFrom("d", "moved", "moved/f"), versions).map(([to, v]) => new MoveIn(to, v))),
    w(1, fc.constant(new Wait())),
    w(1, fc.constant(new RewriteAsFlat())),
    w(3, fc.tuple(fc.constantFrom(...HARD_LINK_NAMES), fc.constantFrom(...HARD_LINK_NAMES)).map(([from, to]) => new HardLink(from, to))),
    w(2, fc.tuple(fc.constantFrom(...HARD_LINK_NAMES), versions).map(([rel, v]) => new SaveAtomically(rel, v))),
    w(2, versions.map((v) => new WriteMemory(v))),
    w(3, fc.nat(8).map((seed) => new CorruptMemory(seed))),
    w(2, fc.tuple(fc.constantFrom(...SPARSE_FILES), versions).map(([rel, v]) => new WriteSparse(rel, v))),
    // Operations
    w(4, fc.tuple(via, fc.constantFrom(...PRIMARIES), fc.boolean()).map(([v, p, pin]) => new Checkpoint(v, p, pin))),
    w(2, fc.tuple(via, fc.constantFrom(...PRIMARIES), fc.boolean()).map(([v, p, pin]) => new Checkpoint(v, p, pin, true))),
    w(1, fc.tuple(via, fc.constantFrom(0, 3)).map(([v, pause]) => new TornCheckpoint(v, pause))),
    w(3, fc.tuple(via, index).map(([v, i]) => new Diff(v, i))),
    w(2, index.map((i) => new Plan(i))),
    w(3, fc.constant(new Execute())),
    w(3, index.map((i) => new Rollback(i, false))),
    w(2, fc.constant(new Rollback(0, true))),
    w(2, fc.tuple(index, fc.array(fc.nat(40), { minLength: 1, maxLength: 2 })).map(([i, paths]) => new PathRollback(i, paths))),
    w(1, index.map((i) => new DryRun(i))),
    w(1, fc.tuple(index, fc.boolean()).map(([i, p]) => new Pin(i, p))),
    w(1, fc.integer({ min: 1, max: 9 }).map((d) => new Retention(d))),
    w(1, index.map((i) => new Verify(i))),
  ];
  if (options.watcher) {
    const step = fc.oneof(
      fc.tuple(fc.constantFrom(...FILES), versions).map(([rel, v]): Cmd => new WriteFile(rel, v)),
      fc.constantFrom(...ANY_PATH).map((rel): Cmd => new Remove(rel)),
      fc.tuple(fc.constantFrom(...ANY_PATH), fc.constantFrom(0o644, 0o755, 0o600)).map(([rel, mode]): Cmd => new Chmod(rel, mode)),
      fc.tuple(fc.constantFrom(...LINKS), fc.constantFrom(...LINK_TARGETS)).map(([rel, target]): Cmd => new Symlink(rel, target)),
      fc.constantFrom(...DIRS).map((rel): Cmd => new Mkdir(rel)),
      fc.tuple(fc.constantFrom(...FILES), fc.boolean()).map(([rel, ignored]): Cmd => new FileToDir(rel, ignored)),
      fc.constantFrom(...DIRS, "src/x.ts", "a.txt").map((rel): Cmd => new DirToFile(rel)),
      fc.tuple(fc.constantFrom(...FILES), fc.nat({ max: 1000 })).map(([rel, s]): Cmd => new Touch(rel, s)),
      fc.constantFrom(...FOLDER_MOVES).map(([from, to]): Cmd => new MoveDir(from, to)),
      fc.tuple(fc.constantFrom("d", "moved", "moved/f"), versions).map(([to, v]): Cmd => new MoveIn(to, v)),
    );
    commands.push(w(4, fc.array(step, { minLength: 1, maxLength: 5 }).map((edits) => new CheckpointedSteps(edits))));
  }
  if (options.restarts) {
    const edit = fc.oneof(
      fc.tuple(fc.constantFrom(...FILES), versions).map(([rel, v]): Cmd => new WriteFile(rel, v)),
      fc.constantFrom(...ANY_PATH).map((rel): Cmd => new Remove(rel)),
      fc.constantFrom(...FOLDER_MOVES).map(([from, to]): Cmd => new MoveDir(from, to)),
      fc.tuple(fc.constantFrom("d", "moved", "moved/f"), versions).map(([to, v]): Cmd => new MoveIn(to, v)),
    );
    commands.push(w(8, edit.map((e) => new RestartWatchman(e))));
  }
  if (options.bucket) {
    const during = fc.oneof(
      fc.tuple(via, fc.constantFrom(...PRIMARIES)).map(([v, primary]): DuringOutage => ({ kind: "checkpoint", via: v, primary })),
      fc.tuple(via, index).map(([v, i]): DuringOutage => ({ kind: "rollback", via: v, index: i })),
    );
    commands.push(w(3, fc.constant(new EmptyCache())));
    commands.push(w(2, fc.tuple(fc.constantFrom(0, 1, 4096), fc.boolean()).map(([bytes, fromNowOn]) => new TinyCache(bytes, fromNowOn))));
    commands.push(w(2, fc.tuple(fc.constantFrom<OutageFault>("slowDown", "internalError", "reset"), during).map(([fault, d]) => new BucketOutage(fault, d))));
    // Rarer away than back: a sequence that went local comes back within a few steps, mostly.
    commands.push(w(1, fc.constant(new Migrate("local"))));
    commands.push(w(6, fc.constant(new Migrate("bucket"))));
  }
  if (options.crashes) {
    commands.push(w(2, fc.tuple(index, fc.integer({ min: 1, max: 40 }), fc.constant(true)).map(([i, n, data]) => new Crash(i, n, data))));
    commands.push(w(2, fc.tuple(index, fc.integer({ min: 1, max: 12 }), fc.constant(false)).map(([i, n, data]) => new Crash(i, n, data))));
  }
  return commands;
}

/** The paths a refused recovery names as in its way (`p (in the way: a, b)`). */
function obstaclesNamedIn(refusal: string): string[] {
  return [...refusal.matchAll(/\(in the way: ([^)]*)\)/g)].flatMap((match) => (match[1] as string).split(", "));
}

/**
 * What an operator does when an interrupted rollback cannot be completed because
 * files it may not touch (ignored, or outside its scope) were put in its way after
 * the crash: the refusal names them; they are moved away, and `safetynet recover`
 * then completes the rollback. Returns the recover run, or null when the refusal
 * was not about such files.
 */
async function clearRecoveryObstacles(m: Model, r: System, refusal: string): Promise<CliResult | null> {
  const paths = obstaclesNamedIn(refusal);
  if (paths.length === 0 || r.journals().length === 0) return null;
  r.log.push(`(operator) rm -rf ${paths.join(" ")}, as the refused recovery asked; safetynet recover`);
  for (const rel of paths) fs.rmSync(abs(r, rel), { recursive: true, force: true });
  if (m.crashed) m.crashed.editedSince = true;
  r.counters.obstaclesCleared++;
  return r.cli(["recover"]);
}

/** The end of every sequence: `safetynet recover` leaves no journal, no running rollback, no held lock, and every active checkpoint verifies. */
export async function finalChecks(m: Model, r: System): Promise<void> {
  let result = await r.cli(["recover"]);
  // Recovery refused by files the model's own edits put in its way: the operator's fix is part of the story.
  if (result.status !== 0) result = (await clearRecoveryObstacles(m, r, result.stdout + result.stderr)) ?? result;
  if (result.status !== 0) fail("recover at the end failed", describeCli(result));
  m.crashed = null;
  m.reconcilePending = false;
  expectNone("journals left at the end", r.journals());
  const running = await r.core.db.rollback.count({ where: { outcome: "running" } });
  if (running > 0) fail("rollback rows still running at the end", `${running}`);
  if (await r.locked()) fail("the component lock is still held at the end", "");
  expectNone("active checkpoints that do not verify", await r.verifyActiveCheckpoints());
}

/** Runs a command, then checks what must hold after every step: every active checkpoint verifies. */
class Checked implements Cmd {
  constructor(private readonly inner: Cmd) {}
  check(m: Readonly<Model>): boolean {
    return this.inner.check(m);
  }
  async run(m: Model, r: System): Promise<void> {
    r.log.push(this.inner.toString());
    if (m.bucket) m.bucket.mutation = null;
    const stagedBefore = m.bucket ? r.stagedObjects() : new Set<string>();
    try {
      await this.inner.run(m, r);
    } catch (error) {
      // A command refused because the crashed rollback it completes first is blocked by files put in its way:
      // the operator clears them as the message says; the rollback must then complete, and the sequence goes on.
      // Through the CLI the refusal is a failed command (a ModelError); through the API, the CONFLICT the router answers.
      const refusal = error instanceof ModelError || isTrpc(error, "CONFLICT") ? (error as Error).message : null;
      if (refusal === null || m.crashed === null || !/could not be completed/.test(refusal)) throw error;
      const recovered = await clearRecoveryObstacles(m, r, refusal);
      if (!recovered) throw error;
      if (recovered.status !== 0) fail(`${this.inner.toString()}: recover after clearing what was in its way failed`, describeCli(recovered));
      await settleCrash(m, r, "recover after clearing the way", { viaCli: true, changedTree: true });
      // History: the recovery's rows, and the refused command's own failed row naming why; nothing else.
      const unexpected = (await r.newEvents()).filter((e) => !RECOVERY_EVENT(e) && !(e.outcome === "failed" && /could not be completed/.test(e.error ?? "")));
      expectNone(`${this.inner.toString()}: history rows of the refused command and its recovery`, unexpected.map((e) => JSON.stringify(e)));
    }
    expectNone(`after "${this.inner.toString()}": active checkpoints that do not verify`, await r.verifyActiveCheckpoints());
    expectNone(`after "${this.inner.toString()}": the server's view of the tree (from Watchman) is not the tree`, await r.watcherDifferences());
    if (m.bucket) {
      const mutation = m.bucket.mutation;
      m.bucket.mutation = null;
      if (mutation) expectNone(`after "${this.inner.toString()}": the bucket is not what the data directory says`, await r.bucketProblems({ stagedBefore, everything: mutation === "checkpoint", killed: m.bucket.killed }));
    }
  }
  toString() {
    return this.inner.toString();
  }
}

/** Every command, checked after it runs, with the weight it is drawn with. */
export function checkedCommands(options: { crashes: boolean; watcher?: boolean; restarts?: boolean; bucket?: boolean }): fc.Arbitrary<Cmd> {
  return fc.oneof(...commandArbitraries(options).map(({ arbitrary, weight }) => ({ arbitrary: arbitrary.map((cmd): Cmd => new Checked(cmd)), weight })));
}

export { ModelError };
