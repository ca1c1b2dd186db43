import { chmodSync, existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deleteCheckpoint, planCheckpointDelete } from "../checkpoints/lifecycle";
import { removeComponent } from "../registry/components";
import { openManifest, storedTreesOf } from "../checkpoints/tree-read";
import { readManifest } from "../checkpoints/manifest";
import { writeJournal } from "../rollback/journal";
import { dataPaths } from "../core";
import { DAY_MS, type ExpireDecision } from "./decide";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { markExpired, planSweep, sweep } from "./sweep";

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
});
afterEach(async () => {
  await f.close();
});

const recordsDir = () => path.join(f.core.store.dir, "snapshots");
const hasRecord = (id: string) => existsSync(path.join(recordsDir(), `${id}.json`));
const statusOf = async (id: string) => (await f.core.db.checkpoint.findUnique({ where: { id } }))?.status ?? "gone";

function expire(id: string, reason = "test"): ExpireDecision {
  return { checkpointId: id, component: "app", kind: "manual", createdAt: "", retentionUntil: "", policy: "default", reason, action: "expire", rule: "retention-until" };
}

/** The objects (sha → bytes on disk, as stats() counts them) a checkpoint's manifest references, manifest and tree objects included. */
async function objectsOf(id: string): Promise<Map<string, number>> {
  const row = await f.core.db.checkpoint.findUniqueOrThrow({ where: { id } });
  const onDisk = (sha: string) => f.core.store.storedSize(sha) ?? Number.NaN;
  const objects = new Map<string, number>([[row.manifestSha, onDisk(row.manifestSha)]]);
  for (const tree of storedTreesOf(f.core.store, openManifest(f.core.store, row.manifestSha)).keys()) objects.set(tree, onDisk(tree));
  for (const e of readManifest(f.core.store, row.manifestSha).entries) if (e.sha256) objects.set(e.sha256, onDisk(e.sha256));
  return objects;
}

/** Ages every object and snapshot record by `ms` (mtimes), so a grace window can pass without waiting. */
function ageStore(ms: number): void {
  const when = (Date.now() - ms) / 1000;
  const objectsDir = path.join(f.core.store.dir, "objects");
  for (const fan of readdirSync(objectsDir)) for (const name of readdirSync(path.join(objectsDir, fan))) utimesSync(path.join(objectsDir, fan, name), when, when);
  for (const name of readdirSync(recordsDir())) utimesSync(path.join(recordsDir(), name), when, when);
}

describe("mark", () => {
  it("marks active unpinned checkpoints expired with the rule and reason, and leaves pinned ones alone", async () => {
    f.write("app", { "a.txt": "a" });
    const plain = await f.checkpoint("app");
    const pinned = await f.checkpoint("app", { pinned: true });
    const marked = await markExpired(f.core, [expire(plain.id, "retentionUntil passed"), expire(pinned.id)]);
    expect(marked.map((d) => d.checkpointId)).toEqual([plain.id]);
    const row = await f.core.db.checkpoint.findUniqueOrThrow({ where: { id: plain.id } });
    expect(row).toMatchObject({ status: "expired", expiredReason: "retention-until: retentionUntil passed" });
    expect(await statusOf(pinned.id)).toBe("active");
  });
});

describe("sweep", () => {
  it("removes the records and rows of expired checkpoints and the objects only they referenced", async () => {
    f.write("app", { "shared.txt": "shared by both", "old.txt": "only in the old one" });
    const old = await f.checkpoint("app");
    f.write("app", { "old.txt": "changed" });
    const kept = await f.checkpoint("app");
    const oldObjects = await objectsOf(old.id);
    const keptObjects = await objectsOf(kept.id);
    const onlyOld = [...oldObjects.keys()].filter((sha) => !keptObjects.has(sha));
    expect(onlyOld).toHaveLength(3); // its manifest (root record), its root folder's tree and old.txt

    await markExpired(f.core, [expire(old.id)]);
    f.clock.advance(60_000); // graceMs 0 still spares objects written after the sweep's start
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 0 });

    expect(result.checkpoints.map((c) => c.checkpointId)).toEqual([old.id]);
    expect(result.objects.map((o) => o.sha256).sort()).toEqual(onlyOld.sort());
    expect(result.bytesFreed).toBe(onlyOld.reduce((sum, sha) => sum + (oldObjects.get(sha) ?? 0), 0));
    expect(await statusOf(old.id)).toBe("gone");
    expect(hasRecord(old.id)).toBe(false);
    expect(await f.core.db.manifest.findUnique({ where: { sha256: old.manifestSha256 } })).toBeNull();
    for (const sha of onlyOld) expect(f.core.store.has(sha)).toBe(false);
    for (const sha of keptObjects.keys()) expect(f.core.store.has(sha)).toBe(true);
    expect(hasRecord(kept.id)).toBe(true);
  });

  it("drops the stat caches when it deletes objects, so no later checkpoint trusts a collected object", async () => {
    await f.component("app");
    f.write("app", { "a.txt": "held only by the old checkpoint", "b.txt": "b" });
    // The stat cache ignores files changed within 2 s of hashing (ctime included): hash "later".
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10_000);
    const old = await f.checkpoint("app");
    vi.useRealTimers();
    // The newest checkpoint covers only b.txt, so a.txt's object is referenced by `old` alone.
    await f.checkpoint("app", { paths: ["b.txt"] });
    await markExpired(f.core, [expire(old.id)]);
    f.clock.advance(60_000);
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 0 });
    expect(result.objects.length).toBeGreaterThan(0);

    const again = await f.checkpoint("app");
    expect(again.filesRead).toBeGreaterThan(0);
    const manifest = readManifest(f.core.store, again.manifestSha256);
    for (const entry of manifest.entries) if (entry.sha256) expect(f.core.store.has(entry.sha256)).toBe(true);
  });

  it("leaves the store holding exactly the bytes the surviving checkpoints reference", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      f.write("app", { "same.txt": "the same in every checkpoint", [`file-${i % 3}.txt`]: `version ${i}`.repeat(100 * (i + 1)), "grow.txt": "x".repeat(1000 * i) });
      ids.push((await f.checkpoint("app", { retentionDays: i < 4 ? 1 : 30 })).id);
      f.clock.advance(DAY_MS / 4);
    }
    f.clock.advanceDays(2);
    await markExpired(f.core, ids.slice(0, 4).map((id) => expire(id)));
    await sweep(f.core, { now: f.clock.now(), graceMs: 0 });
    expect(f.core.store.stats().bytes).toBe(await f.referencedBytes());
    expect(await f.referencedBytes()).toBeGreaterThan(0);
  });

  it("shrinks the store by exactly what the expired checkpoints alone held", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      f.write("app", { "common.txt": "common", [`v${i}.txt`]: `unique ${i}`.repeat(50), "edited.txt": `edit ${i % 2}` });
      ids.push((await f.checkpoint("app")).id);
    }
    const expired = ids.slice(0, 3);
    const alone = new Map<string, number>();
    const survivorShas = new Set<string>();
    for (const id of ids.slice(3)) for (const sha of (await objectsOf(id)).keys()) survivorShas.add(sha);
    for (const id of expired) for (const [sha, size] of await objectsOf(id)) if (!survivorShas.has(sha)) alone.set(sha, size);
    const before = f.core.store.stats().bytes;

    await markExpired(f.core, expired.map((id) => expire(id)));
    f.clock.advance(60_000);
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 0 });

    const aloneBytes = [...alone.values()].reduce((a, b) => a + b, 0);
    expect(result.bytesFreed).toBe(aloneBytes);
    expect(before - f.core.store.stats().bytes).toBe(aloneBytes);
  });

  it("keeps unreferenced objects younger than the grace window, and collects them once it has passed", async () => {
    f.write("app", { "a.txt": "kept" });
    await f.checkpoint("app");
    const orphan = f.core.store.putBuffer("written by a create that has not committed yet").sha256;
    const young = await sweep(f.core, { now: f.clock.now(), graceMs: 60 * 60_000 });
    expect(young.objects).toEqual([]);
    expect(young.keptByGrace.objects).toBe(1);
    expect(f.core.store.has(orphan)).toBe(true);

    f.clock.advance(2 * 60 * 60_000);
    const later = await sweep(f.core, { now: f.clock.now(), graceMs: 60 * 60_000 });
    expect(later.objects.map((o) => o.sha256)).toEqual([orphan]);
    expect(f.core.store.has(orphan)).toBe(false);
  });

  it("collects checkpoints an operator deleted", async () => {
    f.write("app", { "a.txt": "first" });
    const first = await f.checkpoint("app");
    f.write("app", { "a.txt": "second" });
    await f.checkpoint("app");
    const plan = await planCheckpointDelete(f.core, first.id, ACTOR);
    await deleteCheckpoint(f.core, first.id, plan.confirmToken, ACTOR);
    f.clock.advance(60_000);
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 0 });
    expect(result.checkpoints).toMatchObject([{ checkpointId: first.id, status: "deleted" }]);
    expect(f.core.store.has(first.manifestSha256)).toBe(false);
    expect(f.core.store.stats().bytes).toBe(await f.referencedBytes());
  });

  it("keeps what an interrupted rollback's journal needs, even if its checkpoint is expired", async () => {
    f.write("app", { "a.txt": "target content" });
    const target = await f.checkpoint("app");
    f.write("app", { "a.txt": "now" });
    await f.checkpoint("app");
    await markExpired(f.core, [expire(target.id)]);
    writeJournal(dataPaths(f.dataDir).journal, {
      version: 1,
      rollbackId: "rb_test",
      componentId: "cmp",
      componentName: "app",
      root: f.work,
      checkpointId: target.id,
      manifestSha256: target.manifestSha256,
      safetyCheckpointId: "cp_none",
      actor: ACTOR,
      startedAt: f.clock.now().toISOString(),
      pid: process.pid,
      host: hostname(),
      restore: [],
      delete: [],
    });
    await sweep(f.core, { now: f.clock.now(), graceMs: 0 });
    for (const sha of readManifest(f.core.store, target.manifestSha256).entries.map((e) => e.sha256).filter(Boolean)) expect(f.core.store.has(sha as string)).toBe(true);
  });

  it("never empties the store over a database that holds no checkpoint (a lost database)", async () => {
    f.write("app", { "a.txt": "precious" });
    const cp = await f.checkpoint("app");
    ageStore(2 * 60 * 60_000);
    await f.core.db.checkpoint.deleteMany({});
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 0 });
    expect(result.objects).toEqual([]);
    expect(result.orphanRecords.kept).toEqual([cp.id]);
    expect(result.warnings[0]).toContain("unknown to the database; they and the objects they reference are kept");
    expect(f.core.store.has(cp.manifestSha256)).toBe(true);
  });

  it("collects what only a removed component's checkpoints referenced: removing it removes their records and its stat cache too", async () => {
    f.write("app", { "a.txt": "kept" });
    await f.checkpoint("app");
    await f.component("gone");
    f.write("gone", { "g.txt": "garbage after removal" });
    const removed = await f.checkpoint("gone");
    const goneId = (await f.core.db.component.findFirstOrThrow({ where: { name: "gone" } })).id;
    const statCacheDir = dataPaths(f.core.config.dataDir).statCache;
    expect(readdirSync(statCacheDir).filter((name) => name.startsWith(goneId))).not.toEqual([]);
    await removeComponent(f.core, "gone", ACTOR);
    expect(readdirSync(statCacheDir).filter((name) => name.startsWith(goneId))).toEqual([]);
    expect(hasRecord(removed.id)).toBe(false);
    ageStore(2 * 60 * 60_000);
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 60 * 60_000 });
    expect(result.orphanRecords).toEqual({ removed: [], kept: [] });
    expect(f.core.store.has(removed.manifestSha256)).toBe(false);
    expect(f.core.store.stats().bytes).toBe(await f.referencedBytes());
  });

  it("keeps a snapshot record the database does not know, and everything it references, however old", async () => {
    f.write("app", { "a.txt": "kept" });
    await f.checkpoint("app");
    f.write("app", { "a.txt": "only in the lost checkpoint" });
    const lost = await f.checkpoint("app");
    await f.core.db.checkpoint.deleteMany({ where: { id: lost.id } });
    ageStore(2 * 60 * 60_000);
    const result = await sweep(f.core, { now: f.clock.now(), graceMs: 60 * 60_000 });
    expect(result.orphanRecords.kept).toEqual([lost.id]);
    expect(hasRecord(lost.id)).toBe(true);
    expect(f.core.store.has(lost.manifestSha256)).toBe(true);
    for (const entry of readManifest(f.core.store, lost.manifestSha256).entries) if (entry.sha256) expect(f.core.store.has(entry.sha256)).toBe(true);
  });

  it("deletes no object when a live checkpoint's manifest cannot be read, and says why", async () => {
    f.write("app", { "a.txt": "a" });
    const live = await f.checkpoint("app");
    const garbage = f.core.store.putBuffer("unreferenced").sha256;
    const manifestPath = (f.core.store.locate(live.manifestSha256)?.path as string);
    chmodSync(manifestPath, 0o644);
    writeFileSync(manifestPath, "not a manifest");
    const result = await sweep(f.core, { now: new Date(Date.now() + 2 * DAY_MS), graceMs: 0 });
    expect(result.unreadable).toMatchObject([{ checkpointId: live.id, manifestSha256: live.manifestSha256 }]);
    expect(result.objects).toEqual([]);
    expect(f.core.store.has(garbage)).toBe(true);
  });

  it("plans without changing anything", async () => {
    f.write("app", { "a.txt": "a" });
    const old = await f.checkpoint("app");
    f.write("app", { "a.txt": "b" });
    await f.checkpoint("app");
    const before = f.core.store.stats();
    f.clock.advance(60_000);
    const plan = await planSweep(f.core, { now: f.clock.now(), graceMs: 0, assumeExpired: new Map([[old.id, "why"]]) });
    expect(plan.checkpoints).toMatchObject([{ checkpointId: old.id, status: "expired", reason: "why" }]);
    expect(plan.objects.length).toBe(3); // the old manifest, its root tree and the old a.txt
    expect(f.core.store.stats()).toEqual(before);
    expect(await statusOf(old.id)).toBe("active");
    expect(statSync((f.core.store.locate(old.manifestSha256)?.path as string)).isFile()).toBe(true);
  });
});
