/**
 * Test support for server/retention (not a test itself): a data directory and a
 * workspace in a temp dir, a core with a controllable clock, and helpers to make
 * components and checkpoints. The clock starts at the real time so that object
 * mtimes (real) and the sweep's grace window (core.now()) agree.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closeCore, openCore, type Core } from "../core";
import { metadataUrlFor } from "../../test/support/metadata-store";
import { upsertComponent } from "../registry/components";
import { createCheckpoint, type CheckpointCreated } from "../checkpoints/create";
import { openManifest, storedTreesOf } from "../checkpoints/tree-read";
import { readManifest } from "../checkpoints/manifest";
import { findCheckpointRow } from "../checkpoints/queries";
import { performRollback } from "../rollback/execute";
import type { CheckpointCreateInput } from "../schemas";
import { DAY_MS } from "./decide";

export const ACTOR = "test:retention";

export interface Clock {
  now(): Date;
  set(date: Date | number): void;
  advance(ms: number): void;
  advanceDays(days: number): void;
}

export function createClock(start: number = Date.now()): Clock {
  let ms = start;
  return {
    now: () => new Date(ms),
    set: (date) => {
      ms = typeof date === "number" ? date : date.getTime();
    },
    advance: (delta) => {
      ms += delta;
    },
    advanceDays: (days) => {
      ms += days * DAY_MS;
    },
  };
}

export interface Fixture {
  work: string;
  dataDir: string;
  core: Core;
  clock: Clock;
  /** Creates (or updates) a component rooted at <work>/ws/<name>. */
  component(name: string): Promise<string>;
  /** Writes files under a component's root. */
  write(component: string, files: Record<string, string | Buffer>): void;
  read(component: string, rel: string): Buffer;
  checkpoint(component: string, input?: Partial<CheckpointCreateInput>): Promise<CheckpointCreated>;
  /** Rolls back to a checkpoint (the CLI's --yes path). */
  rollback(checkpointId: string): ReturnType<typeof performRollback>;
  /** Bytes of the objects the active checkpoints reference (manifests + blobs, each once), computed from the manifests. */
  referencedBytes(): Promise<number>;
  close(): Promise<void>;
}

export async function openFixture(options: { clock?: Clock } = {}): Promise<Fixture> {
  const work = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-retention-")));
  const dataDir = path.join(work, "data");
  const clock = options.clock ?? createClock();
  const core = openCore({ dataDir, allowedRoots: [work], databaseUrl: metadataUrlFor(dataDir) }, { now: () => clock.now() });
  const rootOf = (name: string) => path.join(work, "ws", name);
  const fixture: Fixture = {
    work,
    dataDir,
    core,
    clock,
    async component(name) {
      mkdirSync(rootOf(name), { recursive: true });
      await upsertComponent(core, { name, root: rootOf(name) }, ACTOR);
      return rootOf(name);
    },
    write(component, files) {
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(rootOf(component), rel);
        mkdirSync(path.dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
    },
    read(component, rel) {
      return readFileSync(path.join(rootOf(component), rel));
    },
    checkpoint(component, input = {}) {
      return createCheckpoint(core, { component, ...input }, ACTOR);
    },
    async rollback(checkpointId) {
      return performRollback(core, await findCheckpointRow(core, checkpointId), ACTOR);
    },
    async referencedBytes() {
      const rows = await core.db.checkpoint.findMany({ where: { status: "active" }, select: { manifestSha: true } });
      // Bytes on disk, as stats() counts them (a compressed object at its compressed size).
      const onDisk = (sha: string) => {
        const bytes = core.store.storedSize(sha);
        if (bytes === null) throw new Error(`object ${sha} is referenced but not in the store`);
        return bytes;
      };
      const sizes = new Map<string, number>();
      for (const { manifestSha } of rows) {
        sizes.set(manifestSha, onDisk(manifestSha));
        for (const tree of storedTreesOf(core.store, openManifest(core.store, manifestSha)).keys()) sizes.set(tree, onDisk(tree));
        for (const entry of readManifest(core.store, manifestSha).entries) if (entry.kind === "file" && entry.sha256) sizes.set(entry.sha256, onDisk(entry.sha256));
      }
      return [...sizes.values()].reduce((a, b) => a + b, 0);
    },
    async close() {
      await closeCore(dataDir);
      rmSync(work, { recursive: true, force: true });
    },
  };
  return fixture;
}
