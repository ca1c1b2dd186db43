/**
 * checkpoint diff: what changed in the live tree since a checkpoint, with an
 * optional unified text diff per modified text file. It sees the workspace
 * exactly as a rollback plan does (captureCheckpointScope, compareManifests),
 * so every path it lists is a path the rollback would change, and the other
 * way round: added ones are deleted, everything else is restored, down to a
 * file whose only change is its mtime.
 */
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import type { Core } from "../core";
import { toComponentView } from "../registry/components";
import { readFileStable, SMALL_FILE_LIMIT } from "../store/hash-file";
import { captureCheckpointScope } from "./live-state";
import { compareManifests, type PathChange } from "./compare";
import { databasesOf, readManifest } from "./manifest";
import { diffDatabases, type DatabaseChange } from "../dbstate/databases";
import { findCheckpointRow } from "./queries";

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

function looksBinary(buffer: Buffer): boolean {
  return buffer.subarray(0, 8000).includes(0);
}

function summarize(change: PathChange): DiffEntry {
  const side = (e: PathChange["before"]): DiffSide | undefined => e && { kind: e.kind, size: e.size, mode: e.mode, sha256: e.sha256, linkTarget: e.linkTarget, ...(e.unstable ? { unstable: true } : {}), ...(e.hardlinkTo !== undefined ? { hardlinkTo: e.hardlinkTo } : {}), ...(e.sparse ? { sparse: e.sparse } : {}) };
  return { path: change.path, kind: change.change, before: side(change.before), after: side(change.after) };
}

export async function diffCheckpoint(core: Core, id: string, options: { textDiff?: boolean; maxTextBytes?: number } = {}): Promise<CheckpointDiff> {
  const row = await findCheckpointRow(core, id);
  const component = toComponentView(row.component);
  const manifest = readManifest(core.store, row.manifestSha);
  const { live, target } = await captureCheckpointScope(core, component, manifest, { storeObjects: false });
  const { changes, unchanged, unstable } = compareManifests(target, live.entries);
  const databases = await diffDatabases(component, databasesOf(manifest));
  const result: CheckpointDiff = { checkpointId: id, component: component.name, added: [], modified: [], deleted: [], modeChanged: [], typeChanged: [], linkChanged: [], mtimeChanged: [], unchanged, unstable, databases };
  const maxBytes = Math.min(options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, SMALL_FILE_LIMIT - 1);
  for (const change of changes) {
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
        if (options.textDiff && change.before?.kind === "file" && change.before.sha256) {
          entry.patch = await textPatch(core, component.root, change, maxBytes);
        }
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

async function textPatch(core: Core, root: string, change: PathChange, maxBytes: number): Promise<string | null> {
  const before = change.before;
  const after = change.after;
  // A sparse file's object is its representation, not its text.
  if (!before?.sha256 || !after || before.size > maxBytes || after.size > maxBytes || before.sparse || after.sparse) return null;
  const oldContent = core.store.readBuffer(before.sha256, { verify: true });
  const newContent = await liveContent(root, after, change.path, maxBytes);
  if (!newContent) return null;
  if (looksBinary(oldContent) || looksBinary(newContent)) return null;
  return createTwoFilesPatch(`a/${change.path}`, `b/${change.path}`, oldContent.toString("utf8"), newContent.toString("utf8"), "checkpoint", "live");
}
