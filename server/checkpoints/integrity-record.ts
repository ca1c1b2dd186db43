/**
 * What is known about a checkpoint's stored content, kept on its row: the state of
 * the last check (verified / corrupt / missing) and the damaged files it found.
 *
 * A full verification (checkpoint verify, verify --all) sets either state. A partial
 * check (a rollback plan or execution re-hashing the objects it needs, an archive
 * export streaming them) only ever records damage: finding some objects intact says
 * nothing about the others, so it never marks a checkpoint verified.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { Prisma } from "../generated/prisma/client";
import { manifestOf } from "./manifest";
import { openManifest, type OpenedManifest } from "./tree-read";
import type { Manifest } from "./manifest-types";
import { ensureManifestLocal } from "./tree-fetch";

export interface DamagedObject {
  /** The file whose content is damaged (for a database snapshot, its target); null for the manifest itself. */
  path: string | null;
  sha256: string;
  state: "corrupt" | "missing";
  /** Set when the damaged object is a database snapshot: its target. */
  database?: string;
}

export type DamageState = "corrupt" | "missing";

/** Damaged files kept per checkpoint; the state and the count stay exact. */
const KEPT_PROBLEMS = 100;

export function damageState(problems: readonly DamagedObject[]): DamageState {
  return problems.some((p) => p.state === "corrupt") ? "corrupt" : "missing";
}

/** Records the outcome of a verification of every object of the checkpoint. */
export async function recordFullVerification(core: Core, checkpointId: string, problems: readonly DamagedObject[], at: Date): Promise<void> {
  await core.db.checkpoint.updateMany({
    where: { id: checkpointId },
    data:
      problems.length === 0
        ? { verifyState: "verified", verifiedAt: at, verifyProblems: Prisma.DbNull }
        : { verifyState: damageState(problems), verifiedAt: at, verifyProblems: keptProblems(problems) },
  });
}

/** Records damage a partial check found (nothing when it found none), added to what earlier checks found. */
export async function recordDamageFound(core: Core, checkpointId: string, problems: readonly DamagedObject[]): Promise<void> {
  if (problems.length === 0) return;
  const row = await core.db.checkpoint.findUnique({ where: { id: checkpointId }, select: { verifyState: true, verifyProblems: true } });
  if (!row) return;
  const known = row.verifyState === "corrupt" || row.verifyState === "missing" ? storedProblems(row.verifyProblems) : [];
  const byObject = new Map<string, DamagedObject>();
  for (const p of [...known, ...problems]) byObject.set(`${p.path ?? ""}\0${p.sha256}`, p);
  const merged = [...byObject.values()];
  await core.db.checkpoint.updateMany({
    where: { id: checkpointId },
    data: { verifyState: damageState(merged), verifiedAt: core.now(), verifyProblems: keptProblems(merged) },
  });
}

function keptProblems(problems: readonly DamagedObject[]): Prisma.InputJsonValue {
  return problems.slice(0, KEPT_PROBLEMS).map((p) => ({ path: p.path, sha256: p.sha256, state: p.state }));
}

/** The damaged files stored on a row (an older row without them reads as none). */
export function storedProblems(value: unknown): DamagedObject[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p): p is DamagedObject =>
      typeof p === "object" && p !== null && typeof (p as DamagedObject).sha256 === "string" && ((p as DamagedObject).state === "corrupt" || (p as DamagedObject).state === "missing"),
  );
}

/**
 * The checkpoint's manifest, opened (its root record re-hashed, its folders read
 * when walked); a damaged manifest is recorded on the checkpoint (it names no
 * file: path null) before the IntegrityError goes on.
 */
export function openCheckpointManifest(core: Core, row: { id: string; manifestSha: string }): Promise<OpenedManifest> {
  return recordingManifestDamage(core, row, () => openManifest(core.store, row.manifestSha));
}

/** The checkpoint's manifest with every entry (openCheckpointManifest, then its trees walked). */
export function readCheckpointManifest(core: Core, row: { id: string; manifestSha: string }): Promise<Manifest> {
  return recordingManifestDamage(core, row, () => manifestOf(core.store, openManifest(core.store, row.manifestSha)));
}

async function recordingManifestDamage<T>(core: Core, row: { id: string; manifestSha: string }, read: () => T): Promise<T> {
  try {
    await ensureManifestLocal(core.store, row.manifestSha);
    return read();
  } catch (error) {
    if (error instanceof IntegrityError) {
      await recordDamageFound(core, row.id, [{ path: null, sha256: row.manifestSha, state: error.details.state === "missing" ? "missing" : "corrupt" }]);
    }
    throw error;
  }
}
