/**
 * checkpoint diff: what changed in the live tree since a checkpoint, with an
 * optional unified text diff per modified text file. It sees the workspace
 * exactly as a rollback plan does (compareWorkspace), so every path it lists is a path the rollback would change, and the other
 * way round: added ones are deleted, everything else is restored, down to a
 * file whose only change is its mtime. With `against`, two checkpoints are
 * compared instead, by their trees, without reading the workspace.
 *
 * A damaged stored object does not fail the diff: the comparison needs only the
 * manifest's hashes, so every path is still listed; a row whose stored content is
 * corrupt or missing is marked `damaged` (it gets no patch), and `damaged` lists
 * every damaged file known of the compared checkpoints. Damage found while
 * reading a patch is recorded on the checkpoint, as any partial check does. Only
 * a damaged manifest (its folders) fails it: then nothing can be listed.
 */
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import type { Core } from "../core";
import { toComponentView } from "../registry/components";
import { readFileStable, SMALL_FILE_LIMIT } from "../store/hash-file";
import type { ManifestComparison, PathChange } from "./compare";
import { compareWorkspace } from "./workspace-compare";
import type { ManifestEntry } from "./manifest-types";
import { compareTrees } from "./tree-diff";
import { InvalidInputError } from "../errors";
import { diffDatabases, diffSnapshots, type DatabaseChange } from "../dbstate/databases";
import { findCheckpointRow, type CheckpointRow } from "./queries";
import { IntegrityError } from "../errors";
import { openCheckpointManifest, recordDamageFound, storedProblems, type DamagedObject, type DamageState } from "./integrity-record";
import { looksBinary } from "./text-content";

export interface DiffEntry {
  path: string;
  kind: string;
  before?: DiffSide;
  /** `unstable`: the live file kept changing while the diff read it (its content is unknown). */
  after?: DiffSide;
  /** Unified diff for modified text files when asked for; null for binary, too large, or damaged. */
  patch?: string | null;
  /** The stored content of this path (in the checkpoint, or in `against`) is damaged: shown without a patch. */
  damaged?: DamageState;
}

export interface DiffSide {
  kind: string;
  size: number;
  mode: number;
  sha256?: string;
  linkTarget?: string;
  unstable?: true;
  /** A hard link: the file this one is another name of. */
  hardlinkTo?: string;
  /** A sparse file: `size` is its apparent size, `dataBytes` what it holds outside its holes (`sha256` names its stored representation). */
  sparse?: { dataBytes: number };
}

export interface CheckpointDiff {
  checkpointId: string;
  /** The checkpoint compared with instead of the live tree (`--against`), or null for the live tree. */
  against: string | null;
  component: string;
  added: DiffEntry[];
  modified: DiffEntry[];
  deleted: DiffEntry[];
  modeChanged: DiffEntry[];
  typeChanged: DiffEntry[];
  /** Same content, but the file is now another name of an earlier file (a hard link), or no longer is (a rollback puts the checkpoint's links back). */
  linkChanged: DiffEntry[];
  /** Same content, kind and mode; only the modification time differs (a rollback puts the old one back). */
  mtimeChanged: DiffEntry[];
  unchanged: number;
  /** Paths the checkpoint recorded as unstable (they kept changing while it was taken): it holds no content for them, and a rollback leaves them alone. */
  unstable: string[];
  /** The checkpoint's databases against what they hold now: tables added and dropped, row counts and columns changed. */
  databases: DatabaseChange[];
  /** Damaged stored files of the compared checkpoints (recorded by checks, or found by this diff), changed or not; `checkpointId` says whose. */
  damaged: (DamagedObject & { checkpointId: string })[];
}

const DEFAULT_MAX_TEXT_BYTES = 1024 * 1024;

function summarize(change: PathChange): DiffEntry {
  const side = (e: PathChange["before"]): DiffSide | undefined => e && { kind: e.kind, size: e.size, mode: e.mode, sha256: e.sha256, linkTarget: e.linkTarget, ...(e.unstable ? { unstable: true } : {}), ...(e.hardlinkTo !== undefined ? { hardlinkTo: e.hardlinkTo } : {}), ...(e.sparse ? { sparse: e.sparse } : {}) };
  return { path: change.path, kind: change.change, before: side(change.before), after: side(change.after) };
}

export interface DiffOptions {
  textDiff?: boolean;
  maxTextBytes?: number;
  /** Another checkpoint of the same component to compare with instead of the live tree (read from the store only). */
  against?: string;
  /** Only this path's row (and only its patch is read); `unchanged` then counts nothing else. */
  path?: string;
}

function onlyPath(comparison: ManifestComparison, path: string | undefined): ManifestComparison {
  if (path === undefined) return comparison;
  const changes = comparison.changes.filter((c) => c.path === path);
  return { ...comparison, changes, unchanged: changes.length === 0 && !comparison.unstable.includes(path) ? 1 : 0, unstable: comparison.unstable.filter((p) => p === path) };
}

export async function diffCheckpoint(core: Core, id: string, options: DiffOptions = {}): Promise<CheckpointDiff> {
  if (options.against !== undefined) return diffCheckpoints(core, id, options.against, options);
  const row = await findCheckpointRow(core, id);
  const component = toComponentView(row.component);
  const checkpoint = await openCheckpointManifest(core, row);
  const { comparison } = await compareWorkspace(core, component, checkpoint, { storeObjects: false });
  const databases = await diffDatabases(component, checkpoint.databases);
  const maxBytes = Math.min(options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, SMALL_FILE_LIMIT - 1);
  const damage = new DamageLedger(core, [row]);
  const patch = options.textDiff
    ? (change: PathChange) => textPatch(change, maxBytes, (before) => damage.read(row.id, change.path, before), (after) => liveContent(component.root, after, change.path, maxBytes))
    : null;
  const buckets = await bucket(onlyPath(comparison, options.path), patch);
  return { checkpointId: id, against: null, component: component.name, ...buckets, databases, damaged: await damage.settle(buckets, { before: row.id }) };
}

/**
 * Two checkpoints of one component compared by their trees (equal folders
 * skipped whole): what changed from `id` to `against`, over the paths both
 * scopes cover. The workspace is not read.
 */
async function diffCheckpoints(core: Core, id: string, against: string, options: DiffOptions): Promise<CheckpointDiff> {
  const [row, other] = await Promise.all([findCheckpointRow(core, id), findCheckpointRow(core, against)]);
  if (row.componentId !== other.componentId) {
    throw new InvalidInputError(`against: checkpoint ${against} is of component "${other.component.name}", not "${row.component.name}" like ${id}: only checkpoints of one component can be compared`, { field: "against" });
  }
  // A damaged manifest fails the diff (nothing can be listed), recorded on its checkpoint.
  const before = await openCheckpointManifest(core, row);
  const after = await openCheckpointManifest(core, other);
  const comparison = compareTrees(core.store, before, after, { scopes: [before.scope, after.scope] });
  const maxBytes = Math.min(options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, SMALL_FILE_LIMIT - 1);
  const damage = new DamageLedger(core, [row, other]);
  const patch = options.textDiff
    ? (change: PathChange) =>
        textPatch(
          change,
          maxBytes,
          (entry) => damage.read(row.id, change.path, entry),
          async (entry) => (entry.kind === "symlink" ? Buffer.from(entry.linkTarget ?? "") : damage.read(other.id, change.path, entry)),
          against,
        )
    : null;
  const buckets = await bucket(onlyPath(comparison, options.path), patch);
  return {
    checkpointId: id,
    against,
    component: row.component.name,
    ...buckets,
    databases: diffSnapshots(before.databases, after.databases),
    damaged: await damage.settle(buckets, { before: row.id, after: other.id }),
  };
}

type Buckets = Omit<CheckpointDiff, "checkpointId" | "against" | "component" | "databases" | "damaged">;

/**
 * The damaged objects of the compared checkpoints: what their last checks
 * recorded, and what reading a patch finds (recorded on the checkpoint when the
 * diff ends). Objects are named by their content, so a damaged object is damaged
 * wherever a compared entry names it.
 */
class DamageLedger {
  private readonly known: (DamagedObject & { checkpointId: string })[] = [];
  private readonly found: (DamagedObject & { checkpointId: string })[] = [];

  constructor(
    private readonly core: Core,
    rows: readonly CheckpointRow[],
  ) {
    for (const r of rows) {
      if (r.verifyState !== "corrupt" && r.verifyState !== "missing") continue;
      // A manifest record is stale here: the manifest was just read.
      for (const p of storedProblems(r.verifyProblems)) if (p.path !== null) this.known.push({ ...p, checkpointId: r.id });
    }
  }

  /** A stored file's content, or null (and the damage noted) when its object is damaged. */
  async read(checkpointId: string, relPath: string, entry: ManifestEntry): Promise<Buffer | null> {
    if (!entry.sha256) return null;
    if (this.stateOf(entry.sha256)) return null;
    try {
      return await this.core.store.readVerified(entry.sha256);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      const state: DamageState = (error.details as { state?: string } | undefined)?.state === "missing" ? "missing" : "corrupt";
      this.found.push({ checkpointId, path: relPath, sha256: entry.sha256, state });
      return null;
    }
  }

  private stateOf(sha256: string): DamageState | undefined {
    return (this.found.find((p) => p.sha256 === sha256) ?? this.known.find((p) => p.sha256 === sha256))?.state;
  }

  /** Marks the damaged rows, records what was found, and lists every damaged file (one per checkpoint and path). */
  async settle(buckets: Buckets, sides: { before: string; after?: string }): Promise<(DamagedObject & { checkpointId: string })[]> {
    const lists = [buckets.added, buckets.modified, buckets.deleted, buckets.modeChanged, buckets.typeChanged, buckets.linkChanged, buckets.mtimeChanged];
    for (const entry of lists.flat()) {
      const before = entry.before?.sha256 ? this.stateOf(entry.before.sha256) : undefined;
      const after = sides.after && entry.after?.sha256 ? this.stateOf(entry.after.sha256) : undefined;
      const state = before === "corrupt" || after === "corrupt" ? "corrupt" : (before ?? after);
      if (state) entry.damaged = state;
    }
    for (const checkpointId of [sides.before, sides.after]) {
      const mine = this.found.filter((p) => p.checkpointId === checkpointId).map(({ checkpointId: _id, ...p }) => p);
      if (checkpointId && mine.length > 0) await recordDamageFound(this.core, checkpointId, mine);
    }
    const all = new Map<string, DamagedObject & { checkpointId: string }>();
    for (const p of [...this.known, ...this.found]) all.set(`${p.checkpointId}\0${p.path ?? ""}`, p);
    return [...all.values()];
  }
}

async function bucket(comparison: ManifestComparison, patch: ((change: PathChange) => Promise<string | null>) | null): Promise<Buckets> {
  const result: Buckets = {
    added: [],
    modified: [],
    deleted: [],
    modeChanged: [],
    typeChanged: [],
    linkChanged: [],
    mtimeChanged: [],
    unchanged: comparison.unchanged,
    unstable: comparison.unstable,
  };
  for (const change of comparison.changes) {
    const entry = summarize(change);
    switch (change.change) {
      case "added":
        result.added.push(entry);
        break;
      case "deleted":
        result.deleted.push(entry);
        break;
      case "type-changed":
        result.typeChanged.push(entry);
        break;
      case "mode-changed":
        result.modeChanged.push(entry);
        break;
      case "mtime-changed":
        result.mtimeChanged.push(entry);
        break;
      case "link-changed":
        result.linkChanged.push(entry);
        break;
      case "modified":
        if (patch && change.before?.kind === "file" && change.before.sha256) entry.patch = await patch(change);
        result.modified.push(entry);
        break;
    }
  }
  return result;
}

/** The live side of a patch, read the way everything else reads the workspace: never through a symlink, bounded, and only the version that was hashed. */
async function liveContent(root: string, entry: NonNullable<PathChange["after"]>, relPath: string, maxBytes: number): Promise<Buffer | null> {
  if (entry.kind === "symlink") return Buffer.from(entry.linkTarget ?? "");
  if (entry.kind !== "file" || entry.size > maxBytes) return null;
  try {
    const read = await readFileStable(path.join(root, relPath));
    return read.sha256 === entry.sha256 && read.data ? read.data : null;
  } catch {
    return null;
  }
}

async function textPatch(
  change: PathChange,
  maxBytes: number,
  contentBefore: (before: ManifestEntry) => Promise<Buffer | null>,
  contentAfter: (after: ManifestEntry) => Promise<Buffer | null>,
  afterLabel = "live",
): Promise<string | null> {
  const before = change.before;
  const after = change.after;
  // A sparse file's object is its representation, not its text.
  if (!before?.sha256 || !after || before.size > maxBytes || after.size > maxBytes || before.sparse || after.sparse) return null;
  const oldContent = await contentBefore(before);
  if (!oldContent) return null;
  const newContent = await contentAfter(after);
  if (!newContent) return null;
  if (looksBinary(oldContent) || looksBinary(newContent)) return null;
  return createTwoFilesPatch(`a/${change.path}`, `b/${change.path}`, oldContent.toString("utf8"), newContent.toString("utf8"), "checkpoint", afterLabel);
}
