/**
 * checkpoint diff: what changed in the live tree since a checkpoint, with an
 * optional unified text diff per modified text file. It sees the workspace
 * exactly as a rollback plan does (compareWorkspace), so every path it lists is a path the rollback would change, and the other
 * way round: added ones are deleted, everything else is restored, down to a
 * file whose only change is its mtime. With `against`, two checkpoints are
 * compared instead, by their trees, without reading the workspace.
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
import { openManifest } from "./tree-read";
import { InvalidInputError } from "../errors";
import { diffDatabases, diffSnapshots, type DatabaseChange } from "../dbstate/databases";
import { findCheckpointRow } from "./queries";
import { looksBinary } from "./text-content";

export interface DiffEntry {
  path: string;
  kind: string;
  before?: DiffSide;
  /** `unstable`: the live file kept changing while the diff read it (its content is unknown). */
  after?: DiffSide;
  /** Unified diff for modified text files when asked for; null for binary or too large. */
  patch?: string | null;
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
}

export async function diffCheckpoint(core: Core, id: string, options: DiffOptions = {}): Promise<CheckpointDiff> {
  if (options.against !== undefined) return diffCheckpoints(core, id, options.against, options);
  const row = await findCheckpointRow(core, id);
  const component = toComponentView(row.component);
  const checkpoint = openManifest(core.store, row.manifestSha);
  const { comparison } = await compareWorkspace(core, component, checkpoint, { storeObjects: false });
  const databases = await diffDatabases(component, checkpoint.databases);
  const maxBytes = Math.min(options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, SMALL_FILE_LIMIT - 1);
  const patch = options.textDiff ? (change: PathChange) => textPatch(core, change, maxBytes, (after) => liveContent(component.root, after, change.path, maxBytes)) : null;
  return { checkpointId: id, against: null, component: component.name, ...(await bucket(comparison, patch)), databases };
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
  const before = openManifest(core.store, row.manifestSha);
  const after = openManifest(core.store, other.manifestSha);
  const comparison = compareTrees(core.store, before, after, { scopes: [before.scope, after.scope] });
  const maxBytes = Math.min(options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, SMALL_FILE_LIMIT - 1);
  const stored = async (entry: ManifestEntry) => (entry.kind === "symlink" ? Buffer.from(entry.linkTarget ?? "") : entry.sha256 ? core.store.readBuffer(entry.sha256, { verify: true }) : null);
  const patch = options.textDiff ? (change: PathChange) => textPatch(core, change, maxBytes, stored, against) : null;
  return { checkpointId: id, against, component: row.component.name, ...(await bucket(comparison, patch)), databases: diffSnapshots(before.databases, after.databases) };
}

async function bucket(comparison: ManifestComparison, patch: ((change: PathChange) => Promise<string | null>) | null): Promise<Omit<CheckpointDiff, "checkpointId" | "against" | "component" | "databases">> {
  const result: Omit<CheckpointDiff, "checkpointId" | "against" | "component" | "databases"> = {
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
  core: Core,
  change: PathChange,
  maxBytes: number,
  contentAfter: (after: ManifestEntry) => Promise<Buffer | null>,
  afterLabel = "live",
): Promise<string | null> {
  const before = change.before;
  const after = change.after;
  // A sparse file's object is its representation, not its text.
  if (!before?.sha256 || !after || before.size > maxBytes || after.size > maxBytes || before.sparse || after.sparse) return null;
  const oldContent = core.store.readBuffer(before.sha256, { verify: true });
  const newContent = await contentAfter(after);
  if (!newContent) return null;
  if (looksBinary(oldContent) || looksBinary(newContent)) return null;
  return createTwoFilesPatch(`a/${change.path}`, `b/${change.path}`, oldContent.toString("utf8"), newContent.toString("utf8"), "checkpoint", afterLabel);
}
