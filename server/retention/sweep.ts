/**
 * Two-phase cleanup.
 *
 *   mark   checkpoints the decision expired become `expired`, with the reason (the rule).
 *   sweep  under the store's exclusive hold: the snapshot records and rows of expired
 *          (and operator-deleted) checkpoints are removed, then every object that no
 *          live checkpoint references is deleted.
 *
 * Live roots (each keeps its manifest, the tree objects below it and what they
 * name, see reachable.ts): active checkpoints, the target of an interrupted rollback's journal,
 * and every snapshot record with no database row (a checkpoint being committed, one
 * the database lost, a create that crashed before its rows): such a record and what
 * it references stay, with a warning, until `safetynet rebuild-db` brings it back or
 * an operator removes it, since the store is what a lost database is rebuilt from.
 * A root whose manifest cannot be read at all stops object collection (its blobs
 * are unknown), never the rest.
 *
 * Concurrency with checkpoint create: a create (and a rollback's safety checkpoint)
 * runs under its component lock, which holds the store shared (server/locks.ts), and
 * may reuse an existing object that nothing references yet. The sweep deletes only
 * while holding the store exclusively, after those operations drained, and
 * recomputes the references then. Belt and braces: an object modified less than the
 * grace window (default 1 h) before the sweep started is never deleted either.
 */
import type { Core } from "../core";
import { dataPaths } from "../core";
import { holdStoreExclusive } from "../locks";
import { ManifestReferences } from "./reachable";
import { ensureManifestLocal } from "../checkpoints/tree-fetch";
import { IntegrityError } from "../errors";
import { deleteSnapshotRecord, readSnapshotRecord, snapshotRecordIds, updateSnapshotRecord } from "../checkpoints/snapshot-record";
import { listJournals } from "../rollback/journal";
import type { ObjectStore } from "../store/object-store";
import type { ExpireDecision } from "./decide";

export { ManifestReferences } from "./reachable";

export const DEFAULT_GRACE_MS = 60 * 60_000;
/** How long a sweep waits for in-progress creates to finish before it gives up collecting (CONFLICT). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;

const DB_CHUNK = 500;

export interface StoredObject {
  sha256: string;
  size: number;
  /** When it was written, when the listing says (a bucket's); else read from the store. */
  mtimeMs?: number;
}

export interface RemovedCheckpoint {
  checkpointId: string;
  component: string;
  kind: string;
  /** `expired` by retention (this run or an earlier one) or `deleted` by an operator. */
  status: "expired" | "deleted";
  reason: string | null;
  manifestSha256: string;
}

export interface UnreadableRoot {
  checkpointId: string | null;
  manifestSha256: string | null;
  error: string;
}

export interface SweepPlan {
  /** Rows (and snapshot records) removed. */
  checkpoints: RemovedCheckpoint[];
  /** Manifest index rows no remaining checkpoint uses. */
  manifests: string[];
  /** Objects deleted, sorted by sha256. */
  objects: StoredObject[];
  bytesFreed: number;
  /** Unreferenced objects younger than the grace window: left for a later sweep. */
  keptByGrace: { objects: number; bytes: number };
  /** Objects in the store that live checkpoints reference (what remains, apart from keptByGrace). */
  referenced: { objects: number; bytes: number };
  /** Snapshot records with no database row: removed as garbage, or kept as roots (young, or the database is empty). */
  orphanRecords: { removed: string[]; kept: string[] };
  warnings: string[];
  /** Roots whose references could not be read: when any, no object is deleted. */
  unreadable: UnreadableRoot[];
}

export interface SweepOptions {
  /** The sweep's start (core.now()): objects modified after `now - graceMs` are kept. */
  now: Date;
  graceMs: number;
}

/** Phase 1: marks the expired decisions (still active and unpinned at this moment); returns those marked. */
export async function markExpired(core: Core, decisions: readonly ExpireDecision[]): Promise<ExpireDecision[]> {
  const marked: ExpireDecision[] = [];
  if (decisions.length === 0) return marked;
  await core.db.$transaction(async (tx) => {
    for (const decision of decisions) {
      const { count } = await tx.checkpoint.updateMany({
        where: { id: decision.checkpointId, status: "active", pinned: false },
        data: { status: "expired", expiredReason: `${decision.rule}: ${decision.reason}` },
      });
      if (count === 1) marked.push(decision);
    }
  });
  for (const decision of marked) updateSnapshotRecord(core.store, decision.checkpointId, { status: "expired", expiredReason: `${decision.rule}: ${decision.reason}` });
  await core.store.flushRemote();
  return marked;
}

/**
 * What the store holds: with a bucket, the bucket's objects and whatever is only
 * here (staged, or left by a crash), each once, written at the later time.
 */
export async function storedObjects(store: ObjectStore): Promise<StoredObject[]> {
  const tier = store.bucket;
  if (!tier) return [...store.listObjects()];
  await tier.syncRecords();
  const listed = new Map<string, StoredObject>();
  for (const object of await tier.listObjects()) listed.set(object.sha256, object);
  for (const object of store.listObjects()) {
    if (listed.has(object.sha256)) continue;
    const mtimeMs = mtimeOf(store, object.sha256);
    if (mtimeMs !== null) listed.set(object.sha256, { ...object, mtimeMs });
  }
  return [...listed.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
}

function mtimeOf(store: ObjectStore, sha256: string): number | null {
  try {
    return store.objectMtimeMs(sha256);
  } catch {
    return null; // deleted meanwhile
  }
}


/**
 * What a sweep would remove, computed from the database and the store as they
 * are. `assumeExpired` treats those active checkpoints as already marked (a dry
 * run); `objects` is a listing of the store taken earlier (objects written after
 * it are then never candidates).
 */
export async function planSweep(
  core: Core,
  options: SweepOptions & { assumeExpired?: ReadonlyMap<string, string>; objects?: readonly StoredObject[]; manifests?: ManifestReferences },
): Promise<SweepPlan> {
  const { store } = core;
  const manifests = options.manifests ?? new ManifestReferences(store);
  const assumeExpired = options.assumeExpired ?? new Map<string, string>();
  const rows = await core.db.checkpoint.findMany({
    select: { id: true, kind: true, status: true, expiredReason: true, manifestSha: true, component: { select: { name: true } } },
    orderBy: { id: "asc" },
  });

  const roots: { checkpointId: string | null; manifestSha: string }[] = [];
  const removed: RemovedCheckpoint[] = [];
  const keptManifestRows = new Set<string>();
  // The target of a rollback still running (or interrupted, on any host: its journal is that host's) stays whatever its
  // status, until the rollback is completed: recovery replays it from that checkpoint.
  const rollbackTargets = new Set((await core.db.rollback.findMany({ where: { outcome: "running" }, select: { checkpointId: true } })).map((r) => r.checkpointId));
  for (const row of rows) {
    const assumed = row.status === "active" ? assumeExpired.get(row.id) : undefined;
    if (rollbackTargets.has(row.id)) {
      roots.push({ checkpointId: row.id, manifestSha: row.manifestSha });
      keptManifestRows.add(row.manifestSha);
    } else if (row.status === "active" && assumed === undefined) {
      roots.push({ checkpointId: row.id, manifestSha: row.manifestSha });
      keptManifestRows.add(row.manifestSha);
    } else if (row.status === "expired" || row.status === "deleted" || assumed !== undefined) {
      removed.push({
        checkpointId: row.id,
        component: row.component.name,
        kind: row.kind,
        status: row.status === "deleted" ? "deleted" : "expired",
        reason: assumed ?? (row.status === "deleted" ? "deleted by an operator" : row.expiredReason),
        manifestSha256: row.manifestSha,
      });
    } else {
      keptManifestRows.add(row.manifestSha); // an unknown status: leave it alone
      roots.push({ checkpointId: row.id, manifestSha: row.manifestSha });
    }
  }

  const cutoff = options.now.getTime() - options.graceMs;
  const unreadable: UnreadableRoot[] = [];
  const warnings: string[] = [];
  const knownIds = new Set(rows.map((r) => r.id));
  const orphanRecords = { removed: [] as string[], kept: [] as string[] };
  const orphanIds = snapshotRecordIds(store).filter((id) => !knownIds.has(id));
  if (orphanIds.length > 0) {
    // A record the database does not know is a checkpoint the database lost (or never finished recording):
    // it and everything it references stay until `safetynet rebuild-db` brings it back or an operator removes it.
    warnings.push(
      `${orphanIds.length} snapshot record(s) in the store are unknown to the database; they and the objects they reference are kept (\`safetynet rebuild-db\` brings them back)`,
    );
  }
  for (const id of orphanIds) {
    orphanRecords.kept.push(id);
    try {
      roots.push({ checkpointId: id, manifestSha: readSnapshotRecord(store, id).manifestSha256 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile
      unreadable.push({ checkpointId: id, manifestSha256: null, error: `snapshot record ${id}: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  for (const journal of listJournals(dataPaths(core.config.dataDir).journal)) roots.push({ checkpointId: journal.checkpointId, manifestSha: journal.manifestSha256 });

  const referenced = new Set<string>();
  for (const root of roots) {
    // With a bucket, the trees of checkpoints other hosts wrote are read from here.
    const fetched = await ensureManifestLocal(store, root.manifestSha).then(
      () => null,
      (failure: unknown) => (failure instanceof IntegrityError ? failure.message : Promise.reject(failure)),
    );
    const error = fetched ?? manifests.mark(root.manifestSha, referenced);
    if (error !== null) unreadable.push({ checkpointId: root.checkpointId, manifestSha256: root.manifestSha, error });
  }

  const objects: StoredObject[] = [];
  const keptByGrace = { objects: 0, bytes: 0 };
  const present = { objects: 0, bytes: 0 };
  for (const object of options.objects ?? (await storedObjects(store))) {
    if (referenced.has(object.sha256)) {
      present.objects++;
      present.bytes += object.size;
      continue;
    }
    const mtimeMs = object.mtimeMs ?? mtimeOf(store, object.sha256);
    if (mtimeMs === null) continue;
    if (mtimeMs > cutoff) {
      keptByGrace.objects++;
      keptByGrace.bytes += object.size;
    } else objects.push({ sha256: object.sha256, size: object.size });
  }
  objects.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));

  const dropped = [...new Set(removed.map((c) => c.manifestSha256))].filter((sha) => !keptManifestRows.has(sha)).sort();
  const collectable = unreadable.length === 0 ? objects : [];
  return {
    checkpoints: removed,
    manifests: dropped,
    objects: collectable,
    bytesFreed: collectable.reduce((sum, o) => sum + o.size, 0),
    keptByGrace,
    referenced: present,
    orphanRecords,
    unreadable,
    warnings,
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += DB_CHUNK) out.push(items.slice(i, i + DB_CHUNK));
  return out;
}

export interface SweepResult extends SweepPlan {
  tmpEntriesRemoved: number;
}

/**
 * Phase 2. Takes the store's exclusive hold (waiting at most `drainTimeoutMs` for
 * in-progress creates; CONFLICT otherwise), recomputes the plan, and carries it
 * out: snapshot records, then rows, then manifest index rows, then objects.
 */
export async function sweep(core: Core, options: SweepOptions & { drainTimeoutMs?: number; manifests?: ManifestReferences }): Promise<SweepResult> {
  const { store } = core;
  const objects = await storedObjects(store);
  const release = await holdStoreExclusive(core.locks, { drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS });
  try {
    const plan = await planSweep(core, { ...options, objects });
    const records = [...plan.checkpoints.map((c) => c.checkpointId), ...plan.orphanRecords.removed];
    for (const id of records) deleteSnapshotRecord(store, id);
    await store.flushRemote();
    await core.db.$transaction(async (tx) => {
      for (const ids of chunks(plan.checkpoints.map((c) => c.checkpointId))) {
        await tx.checkpoint.deleteMany({ where: { id: { in: ids }, status: { in: ["expired", "deleted"] } } });
      }
      for (const shas of chunks(plan.manifests)) {
        await tx.manifest.deleteMany({ where: { sha256: { in: shas }, checkpoints: { none: {} } } });
      }
    });
    // Stat caches saved before this point may name objects about to go: the new generation disowns them.
    const gone = new Set(await store.collect(plan.objects.map((o) => o.sha256), records));
    const deleted = plan.objects.filter((o) => gone.has(o.sha256));
    // No writer holds the store now: what is left in tmp/ and older than the grace window is a crash leftover.
    const tmpEntriesRemoved = store.cleanTmp(options.graceMs);
    return { ...plan, objects: deleted, bytesFreed: deleted.reduce((sum, o) => sum + o.size, 0), tmpEntriesRemoved };
  } finally {
    await release();
  }
}
