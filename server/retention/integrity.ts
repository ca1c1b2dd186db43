/**
 * The integrity sweep (`safetynet verify --all`): re-hashes every stored object
 * referenced by an active checkpoint, once however many checkpoints share it,
 * records each checkpoint's state (verified / corrupt / missing) and reports.
 * Per checkpoint it is exactly `checkpoint verify` (verifyManifest), with one memo
 * for the run, so each tree shared by several checkpoints is checked once; it holds
 * the store shared so a sweep cannot delete objects while they are checked.
 */
import type { Core, Actor } from "../core";
import { holdStoreShared } from "../locks";
import { recordEvent } from "../audit/history";
import { verifyManifest, type VerifyProblem, type VerifyState } from "../checkpoints/verify";
import { newTreeCheckMemo } from "../checkpoints/tree-verify";
import { recordFullVerification } from "../checkpoints/integrity-record";
import { Prisma } from "../generated/prisma/client";

export interface CheckpointIntegrity {
  checkpointId: string;
  component: string;
  state: VerifyState;
  problems: VerifyProblem[];
}

export interface VerifyAllResult {
  outcome: "succeeded" | "failed";
  checkpoints: number;
  verified: number;
  corrupt: number;
  missing: number;
  /** Distinct objects re-hashed (manifests included) and their bytes. */
  objectsChecked: number;
  bytesChecked: number;
  /** Only the checkpoints with problems. */
  failures: CheckpointIntegrity[];
  startedAt: string;
  durationMs: number;
  historyEventId: string;
}

export async function verifyAll(core: Core, actor: Actor): Promise<VerifyAllResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const release = await holdStoreShared(core.locks);
  try {
    const rows = await core.db.checkpoint.findMany({
      where: { status: "active" },
      select: { id: true, manifestSha: true, component: { select: { name: true } } },
      orderBy: { id: "asc" },
    });
    const memo = newTreeCheckMemo();
    const manifests = new Map<string, VerifyProblem[]>();
    const results: CheckpointIntegrity[] = [];
    for (const row of rows) {
      const problems = manifests.get(row.manifestSha) ?? (await verifyManifest(core, row.manifestSha, memo));
      manifests.set(row.manifestSha, problems);
      const state: VerifyState = problems.length === 0 ? "verified" : problems.some((p) => p.state === "corrupt") ? "corrupt" : "missing";
      results.push({ checkpointId: row.id, component: row.component.name, state, problems });
    }
    const verifiedAt = core.now();
    const verifiedIds = results.filter((r) => r.state === "verified").map((r) => r.checkpointId);
    for (let i = 0; i < verifiedIds.length; i += 500) {
      await core.db.checkpoint.updateMany({
        where: { id: { in: verifiedIds.slice(i, i + 500) }, status: "active" },
        data: { verifyState: "verified", verifiedAt, verifyProblems: Prisma.DbNull },
      });
    }
    // Damaged checkpoints are few: each keeps its own list of damaged files.
    for (const failure of results.filter((r) => r.state !== "verified")) await recordFullVerification(core, failure.checkpointId, failure.problems, verifiedAt);
    const manifestBytes = [...manifests.keys()].reduce((sum, sha) => sum + (core.store.objectSize(sha) ?? 0), 0);
    const failures = results.filter((r) => r.state !== "verified");
    const count = (state: VerifyState) => results.filter((r) => r.state === state).length;
    const outcome = failures.length === 0 ? "succeeded" : "failed";
    const durationMs = Math.round(performance.now() - t0);
    const objectsChecked = manifests.size + memo.trees.size + memo.objects.size;
    const bytesChecked = manifestBytes + memo.bytes;
    const historyEventId = await recordEvent(core, {
      kind: "checkpoint.verify",
      actor,
      outcome,
      startedAt,
      durationMs,
      files: objectsChecked,
      bytes: bytesChecked,
      error: outcome === "failed" ? `${failures.length} checkpoint(s) damaged: ${failures.slice(0, 5).map((f) => `${f.checkpointId} ${f.state}`).join(", ")}` : undefined,
      details: {
        scope: "all",
        checkpoints: results.length,
        verified: count("verified"),
        corrupt: count("corrupt"),
        missing: count("missing"),
        failures: failures.slice(0, 100).map((f) => ({ checkpointId: f.checkpointId, component: f.component, state: f.state, problems: f.problems.slice(0, 20) })),
      },
    });
    return {
      outcome,
      checkpoints: results.length,
      verified: count("verified"),
      corrupt: count("corrupt"),
      missing: count("missing"),
      objectsChecked,
      bytesChecked,
      failures,
      startedAt: startedAt.toISOString(),
      durationMs,
      historyEventId,
    };
  } finally {
    await release();
  }
}
