/**
 * The `status` of a component's metadata document after a rollback. A rollback
 * puts back the metadata document of its checkpoint with `status: "rolled-back"`
 * and records which rollback did it under `rolledBack`:
 *
 *   { "status": "rolled-back",
 *     "rolledBack": { "rollbackId": "rb_…", "checkpointId": "cp_…", "at": "<ISO time>", "statusBefore": "active" } }
 *
 * The next checkpoint taken on purpose (not a safety checkpoint) clears it: the
 * status goes back to `statusBefore` ("active" when there was none) and
 * `rolledBack` is removed. Pure: no I/O.
 */
export const ROLLED_BACK_STATUS = "rolled-back";
export const ROLLED_BACK_KEY = "rolledBack";
const DEFAULT_STATUS = "active";

export interface RolledBackMark {
  rollbackId: string;
  checkpointId: string;
  at: string;
  /** The status the document had before the first of consecutive rollbacks (null: none). */
  statusBefore: string | null;
}

type MetadataDocument = Record<string, unknown>;

/** The mark of the rollback that set the status, or null when the status was not set by one. */
export function rolledBackMarkOf(metadata: MetadataDocument): RolledBackMark | null {
  if (metadata.status !== ROLLED_BACK_STATUS) return null;
  const mark = metadata[ROLLED_BACK_KEY];
  if (typeof mark !== "object" || mark === null) return null;
  const { rollbackId, checkpointId, at, statusBefore } = mark as Record<string, unknown>;
  if (typeof rollbackId !== "string" || typeof checkpointId !== "string" || typeof at !== "string") return null;
  return { rollbackId, checkpointId, at, statusBefore: typeof statusBefore === "string" ? statusBefore : null };
}

/** The document a finished rollback leaves: the checkpoint's own, marked rolled back by `rollback`. */
export function markRolledBack(checkpointMetadata: MetadataDocument, rollback: Omit<RolledBackMark, "statusBefore">): MetadataDocument {
  const earlier = rolledBackMarkOf(checkpointMetadata);
  const statusBefore = earlier ? earlier.statusBefore : typeof checkpointMetadata.status === "string" ? checkpointMetadata.status : null;
  const mark: RolledBackMark = { ...rollback, statusBefore };
  return { ...checkpointMetadata, status: ROLLED_BACK_STATUS, [ROLLED_BACK_KEY]: mark };
}

/** The document after a new checkpoint: a rollback's status cleared; null when there is nothing to clear. */
export function clearRolledBack(metadata: MetadataDocument): MetadataDocument | null {
  if (metadata.status !== ROLLED_BACK_STATUS) return null;
  const { [ROLLED_BACK_KEY]: _mark, ...rest } = metadata;
  const statusBefore = rolledBackMarkOf(metadata)?.statusBefore ?? null;
  return { ...rest, status: statusBefore && statusBefore !== ROLLED_BACK_STATUS ? statusBefore : DEFAULT_STATUS };
}
