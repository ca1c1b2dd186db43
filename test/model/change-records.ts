/**
 * The model's own check of a checkpoint's change records: the rows the product
 * wrote must be exactly the paths whose content, mode or kind differ between the
 * checkpoint and its base (read with the model's manifest reader, compared here
 * from scratch), over the paths both scopes cover; and its counts must be those
 * rows' files and symlinks.
 */
import { fromStorageText } from "../../server/byte-paths";
import type { System } from "./system";

type Entry = ReturnType<System["manifest"]>["entries"][number];
type ScopeLike = { kind: string; paths?: string[] };

function covers(scope: ScopeLike, p: string): boolean {
  return scope.kind === "all" || (scope.paths ?? []).some((q) => q === "" || p === q || p.startsWith(`${q}/`));
}

function changeOf(before: Entry | undefined, after: Entry | undefined): string | null {
  if (!before && !after) return null;
  if (!before) return "added";
  if (!after) return "deleted";
  if (before.unstable) return null;
  if (before.kind !== after.kind) return "type";
  if (before.kind === "file" && (before.sha256 !== after.sha256 || (before.sparse === undefined) !== (after.sparse === undefined))) return "modified";
  if (before.kind === "symlink" && before.linkTarget !== after.linkTarget) return "modified";
  if (before.mode !== after.mode) return "mode";
  return null;
}

export async function changeRecordProblems(r: System, checkpointId: string): Promise<string[]> {
  const row = await r.core.db.checkpoint.findUniqueOrThrow({ where: { id: checkpointId }, include: { changes: true } });
  // Paths are kept in their text-column form (names that are not UTF-8 escaped).
  const recorded = new Map(row.changes.map((c) => [fromStorageText(c.path), c.change]));
  if (row.baseId === null) return recorded.size === 0 && row.added === null ? [] : [`${checkpointId}: no base, yet ${recorded.size} change rows and counts ${row.added}`];
  const base = await r.core.db.checkpoint.findUnique({ where: { id: row.baseId } });
  if (!base || base.componentId !== row.componentId || base.createdAt > row.createdAt) return [`${checkpointId}: its base ${row.baseId} is not an earlier checkpoint of the component`];
  const before = r.manifest(base.manifestSha);
  const after = r.manifest(row.manifestSha);
  const olds = new Map(before.entries.map((e) => [e.path, e]));
  const nows = new Map(after.entries.map((e) => [e.path, e]));
  const expected = new Map<string, string>();
  for (const p of new Set([...olds.keys(), ...nows.keys()])) {
    if (!covers(before.scope, p) || !covers(after.scope, p)) continue;
    const change = changeOf(olds.get(p), nows.get(p));
    if (change) expected.set(p, change);
  }
  const problems: string[] = [];
  for (const [p, change] of expected) if (recorded.get(p) !== change) problems.push(`${checkpointId}: ${p} should be recorded "${change}" against ${row.baseId}, is ${recorded.get(p) ?? "not recorded"}`);
  for (const [p, change] of recorded) if (!expected.has(p)) problems.push(`${checkpointId}: ${p} recorded "${change}" against ${row.baseId}, but it did not change`);
  const counted = { added: 0, modified: 0, deleted: 0 };
  for (const [p, change] of expected) {
    const kinds = [olds.get(p)?.kind, nows.get(p)?.kind].filter((k) => k !== undefined);
    if (kinds.every((k) => k === "dir")) continue;
    if (change === "added") counted.added++;
    else if (change === "deleted") counted.deleted++;
    else counted.modified++;
  }
  if (row.added !== counted.added || row.modified !== counted.modified || row.deleted !== counted.deleted) {
    problems.push(`${checkpointId}: counts +${row.added} ~${row.modified} -${row.deleted}, expected +${counted.added} ~${counted.modified} -${counted.deleted}`);
  }
  return problems;
}
