/**
 * checkpoint verify: re-hashes the manifest, its trees and every object they
 * reference, and records the outcome on the checkpoint (verified / corrupt / missing).
 */
import type { Core, Actor } from "../core";
import { IntegrityError } from "../errors";
import { mapConcurrent } from "../concurrency";
import { recordEvent } from "../audit/history";
import { callerDetails } from "../audit/attribution";
import { contentBytesOnDisk, databasesOf } from "./manifest";
import { openManifest, type OpenedManifest } from "./tree-read";
import { checkTrees, newTreeCheckMemo, objectState, type TreeCheckMemo } from "./tree-verify";
import { checkObjects } from "../dbstate/databases";
import { snapshotObjects } from "../dbstate/snapshot-types";
import type { Manifest, ManifestEntry } from "./manifest-types";
import { findCheckpointRow } from "./queries";
import { recordFullVerification, type DamagedObject } from "./integrity-record";
import { ensureManifestLocal } from "./tree-fetch";

export type VerifyState = "verified" | "corrupt" | "missing";

export type VerifyProblem = DamagedObject;

export interface VerifyResult {
  checkpointId: string;
  state: VerifyState;
  problems: VerifyProblem[];
  objectsChecked: number;
  bytesChecked: number;
  verifiedAt: string;
}

const VERIFY_CONCURRENCY = 8;

/**
 * Re-hashes the objects of `manifest`; returns the problems, one per affected path.
 * With `paths` only those files (a rollback checks its database snapshots itself);
 * without, the database snapshots too.
 */
export async function checkManifestObjects(core: Core, manifest: Manifest, paths?: ReadonlySet<string>): Promise<{ problems: VerifyProblem[]; objects: number; bytes: number }> {
  const checked = await checkEntryObjects(core, paths ? manifest.entries.filter((e) => paths.has(e.path)) : manifest.entries);
  const { problems } = checked;
  let { objects, bytes } = checked;
  if (!paths) {
    // (An object that is also a file's was checked above, under the file's path.)
    const databaseObjects = databasesOf(manifest)
      .flatMap((d) => snapshotObjects(d))
      .filter((o) => !checked.shas.has(o.sha256));
    for (const problem of await checkObjects(core, databaseObjects)) problems.push({ path: problem.target, sha256: problem.sha256, state: problem.state, database: problem.target });
    objects += databaseObjects.length;
    bytes += databaseObjects.reduce((sum, o) => sum + o.size, 0);
  }
  return { problems, objects, bytes };
}

/** Re-hashes the content objects of these entries (each object once, its damage reported under every path that holds it). */
export async function checkEntryObjects(core: Core, entries: Iterable<ManifestEntry>): Promise<{ problems: VerifyProblem[]; objects: number; bytes: number; shas: ReadonlySet<string> }> {
  const pathsBySha = new Map<string, string[]>();
  let bytes = 0;
  for (const entry of entries) {
    if (entry.kind !== "file" || !entry.sha256) continue;
    const list = pathsBySha.get(entry.sha256);
    if (list) list.push(entry.path);
    else {
      pathsBySha.set(entry.sha256, [entry.path]);
      bytes += contentBytesOnDisk(entry);
    }
  }
  const shas = [...pathsBySha.keys()];
  const states = await mapConcurrent(shas, VERIFY_CONCURRENCY, (sha) => core.store.verifyObject(sha));
  const problems: VerifyProblem[] = [];
  shas.forEach((sha, i) => {
    const state = states[i];
    if (state === "ok" || state === undefined) return;
    for (const p of pathsBySha.get(sha) ?? []) problems.push({ path: p, sha256: sha, state });
  });
  return { problems, objects: shas.length, bytes, shas: new Set(shas) };
}

/**
 * Re-hashes everything a checkpoint holds: its manifest, its tree objects (each
 * subtree once per memo), its files' objects and its database snapshots.
 */
export async function verifyManifest(core: Core, manifestSha: string, memo: TreeCheckMemo): Promise<VerifyProblem[]> {
  let manifest: OpenedManifest;
  try {
    await ensureManifestLocal(core.store, manifestSha);
    manifest = openManifest(core.store, manifestSha);
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    // A root tree that cannot be read is the manifest's problem: nothing of the checkpoint can be found without it.
    return [{ path: null, sha256: (error.details.sha256 as string | undefined) ?? manifestSha, state: error.details.state === "missing" ? "missing" : "corrupt" }];
  }
  const problems = await checkTrees(core, manifest, memo);
  for (const object of manifest.databases.flatMap((d) => snapshotObjects(d))) {
    const state = await objectState(core, object.sha256, object.size, memo);
    if (state === "corrupt" || state === "missing") problems.push({ path: object.label, sha256: object.sha256, state, database: object.label });
  }
  return problems;
}

export async function verifyCheckpoint(core: Core, id: string, actor: Actor): Promise<VerifyResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const row = await findCheckpointRow(core, id);
  const memo = newTreeCheckMemo();
  const problems = await verifyManifest(core, row.manifestSha, memo);
  const objects = 1 + memo.trees.size + memo.objects.size;
  const bytes = memo.bytes;
  const state: VerifyState = problems.length === 0 ? "verified" : problems.some((p) => p.state === "corrupt") ? "corrupt" : "missing";
  const verifiedAt = core.now();
  await recordFullVerification(core, id, problems, verifiedAt);
  await recordEvent(core, {
    kind: "checkpoint.verify",
    component: row.component.name,
    checkpointId: id,
    actor,
    outcome: state === "verified" ? "succeeded" : "failed",
    startedAt,
    durationMs: performance.now() - t0,
    files: row.files,
    bytes,
    checksum: row.manifestSha,
    error: state === "verified" ? undefined : `${problems.length} problem(s): ${problems.slice(0, 5).map((p) => `${p.path ?? "manifest"} ${p.state}`).join(", ")}`,
    details: { state, problems: problems.slice(0, 100), ...callerDetails(row.callerMeta) },
  });
  return { checkpointId: id, state, problems, objectsChecked: objects, bytesChecked: bytes, verifiedAt: verifiedAt.toISOString() };
}
