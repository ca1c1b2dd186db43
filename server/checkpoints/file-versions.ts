/**
 * One path's versions as checkpoints hold them: its content at one checkpoint
 * (file.content) and the difference between two (file.diff). Read from the store
 * only, looking up the path in each checkpoint's trees (the folders above it, no
 * more); the workspace is not read. Text is capped: a file larger than the cap
 * shows its beginning (`truncated`), and a diff of one is not made.
 */
import { createTwoFilesPatch } from "diff";
import type { Core } from "../core";
import { InvalidInputError, NotFoundError } from "../errors";
import { checkInputPath, normalizeRelativePath } from "../scan/paths";
import type { FileContentInput, FileDiffInput } from "../schemas";
import { openCheckpointManifest } from "./integrity-record";
import type { ManifestEntry } from "./manifest-types";
import { findCheckpointRow, type CheckpointRow } from "./queries";
import { lookupEntry } from "./tree-read";
import { looksBinary } from "./text-content";

/** Bytes of a version shown as text, at most (the rest is cut: `truncated`); also the largest file a diff is made of. */
export const FILE_TEXT_LIMIT = 1024 * 1024;

export interface FileVersionEntry {
  kind: string;
  size: number;
  mode: number;
  sha256: string | null;
  linkTarget: string | null;
  /** Another name of this file in the same checkpoint (a hard link). */
  hardlinkTo: string | null;
  /** A sparse file: `sha256` names its stored representation; its text is not shown. */
  sparse: boolean;
  /** It kept changing while the checkpoint was taken: no content is held. */
  unstable: boolean;
}

export interface FileContent extends FileVersionEntry {
  checkpointId: string;
  component: string;
  path: string;
  /** The content holds a NUL byte in its first 8000 bytes (no text is shown), or is sparse. */
  binary: boolean;
  /** The content as UTF-8 (the first FILE_TEXT_LIMIT bytes of a larger file); null for binary, folders and unstable files. */
  text: string | null;
  truncated: boolean;
}

export interface FileDiff {
  component: string;
  path: string;
  from: { checkpointId: string; entry: FileVersionEntry | null };
  to: { checkpointId: string; entry: FileVersionEntry | null };
  /** From `from` to `to`: added (absent before), deleted, modified (content or link target), type, mode, or unchanged. */
  change: "added" | "deleted" | "modified" | "type" | "mode" | "unchanged" | "absent";
  /** A unified diff of the text (an absent side is empty); null when unchanged, binary, too large, or not a file or link. */
  patch: string | null;
  /** Why there is no patch although the content changed. */
  noPatch: "binary" | "too-large" | "not-text" | null;
}

function describeEntry(entry: ManifestEntry): FileVersionEntry {
  return {
    kind: entry.kind,
    size: entry.kind === "dir" ? 0 : entry.size,
    mode: entry.mode,
    sha256: entry.sha256 ?? null,
    linkTarget: entry.linkTarget ?? null,
    hardlinkTo: entry.hardlinkTo ?? null,
    sparse: entry.sparse !== undefined,
    unstable: entry.unstable === true,
  };
}

async function entryAt(core: Core, row: CheckpointRow, path: string): Promise<ManifestEntry | null> {
  return lookupEntry(core.store, await openCheckpointManifest(core, row), path);
}

/** Up to `limit` bytes of an object's content (all of it, verified, when it is that small). */
async function leadingBytes(core: Core, sha256: string, size: number, limit: number): Promise<Buffer> {
  if (size <= limit) {
    return core.store.readVerified(sha256);
  }
  const content = await core.store.openContent(sha256);
  const parts: Buffer[] = [];
  let taken = 0;
  try {
    for await (const chunk of content.chunks) {
      parts.push(chunk.subarray(0, limit - taken));
      taken += Math.min(chunk.length, limit - taken);
      if (taken >= limit) break;
    }
  } finally {
    await content.close();
  }
  return Buffer.concat(parts);
}

/** A path of a checkpoint: its entry and, for a file or link, its content as text (capped). 404 when the checkpoint does not hold it. */
export async function fileContent(core: Core, input: FileContentInput): Promise<FileContent> {
  const path = checkInputPath("path", () => normalizeRelativePath(input.path));
  const row = await findCheckpointRow(core, input.checkpointId);
  const entry = await entryAt(core, row, path);
  if (!entry) throw new NotFoundError(`checkpoint ${row.id} does not hold "${path}" (it did not exist then, or lay outside the checkpoint's scope)`, { checkpointId: row.id, path });
  const base = { checkpointId: row.id, component: row.component.name, path, ...describeEntry(entry) };
  if (entry.kind === "symlink") return { ...base, binary: false, text: entry.linkTarget ?? "", truncated: false };
  if (entry.kind !== "file" || !entry.sha256) return { ...base, binary: false, text: null, truncated: false };
  if (entry.sparse) return { ...base, binary: true, text: null, truncated: false };
  const bytes = await leadingBytes(core, entry.sha256, entry.size, FILE_TEXT_LIMIT);
  if (looksBinary(bytes)) return { ...base, binary: true, text: null, truncated: false };
  return { ...base, binary: false, text: bytes.toString("utf8"), truncated: entry.size > FILE_TEXT_LIMIT };
}

function changeBetween(from: ManifestEntry | null, to: ManifestEntry | null): FileDiff["change"] {
  if (!from && !to) return "absent";
  if (!from) return "added";
  if (!to) return "deleted";
  if (from.kind !== to.kind) return "type";
  if ((from.sha256 ?? null) !== (to.sha256 ?? null) || (from.linkTarget ?? null) !== (to.linkTarget ?? null)) return "modified";
  if (from.mode !== to.mode) return "mode";
  return "unchanged";
}

/** The text of one side of a diff: "" when absent; null when it cannot be shown as text (with why). */
async function sideText(core: Core, entry: ManifestEntry | null): Promise<{ text: string } | { noPatch: NonNullable<FileDiff["noPatch"]> }> {
  if (!entry) return { text: "" };
  if (entry.kind === "symlink") return { text: `${entry.linkTarget ?? ""}\n` };
  if (entry.kind !== "file" || !entry.sha256 || entry.sparse) return { noPatch: "not-text" };
  if (entry.size > FILE_TEXT_LIMIT) return { noPatch: "too-large" };
  const bytes = await core.store.readVerified(entry.sha256);
  return looksBinary(bytes) ? { noPatch: "binary" } : { text: bytes.toString("utf8") };
}

/** One path from checkpoint `from` to checkpoint `to` (both of the component): what changed, with a unified text diff. */
export async function fileDiff(core: Core, input: FileDiffInput): Promise<FileDiff> {
  const path = checkInputPath("path", () => normalizeRelativePath(input.path));
  const [fromRow, toRow] = await Promise.all([findCheckpointRow(core, input.from), findCheckpointRow(core, input.to)]);
  for (const [field, row] of [["from", fromRow], ["to", toRow]] as const) {
    if (row.component.name !== input.component) {
      throw new InvalidInputError(`${field}: checkpoint ${row.id} is of component "${row.component.name}", not "${input.component}"`, { field });
    }
  }
  const [before, after] = await Promise.all([entryAt(core, fromRow, path), entryAt(core, toRow, path)]);
  const change = changeBetween(before, after);
  let patch: string | null = null;
  let noPatch: FileDiff["noPatch"] = null;
  if (change === "added" || change === "deleted" || change === "modified" || change === "type") {
    const [a, b] = await Promise.all([sideText(core, before), sideText(core, after)]);
    if ("text" in a && "text" in b) patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, a.text, b.text, fromRow.id, toRow.id);
    else noPatch = "noPatch" in a ? a.noPatch : "noPatch" in b ? b.noPatch : null;
  }
  return {
    component: input.component,
    path,
    from: { checkpointId: fromRow.id, entry: before && describeEntry(before) },
    to: { checkpointId: toRow.id, entry: after && describeEntry(after) },
    change,
    patch,
    noPatch,
  };
}
