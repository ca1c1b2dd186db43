/**
 * The rollback journal: written (and fsynced) before the first byte of the
 * workspace changes, removed after the last change is durable. A journal found
 * later means a rollback was interrupted (a crash, or a failure in its own
 * process); recover.ts completes it from the journal alone, and while it exists
 * nothing else may change its component (mutation-barrier.ts).
 *
 * A rollback with databases (version 2) goes through phases, each recorded here
 * before it starts:
 *
 *   databases  each database is replaced by its snapshot, in order (each one
 *              atomically); recovery replaces them all again, then the files
 *   files      the databases are done; the files are written (recovery re-applies the plan)
 *   undo       a database could not be replaced: the ones replaced before it are put
 *              back from the rollback's safety snapshots and no file is touched;
 *              recovery finishes putting them back. The rollback failed, and the
 *              component ends as it was before it.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file";
import { fsyncDirectorySync } from "../store/atomic-write";
import type { DeleteItem, RestoreItem } from "./plan";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import type { StopRecord } from "./stopped";

export type JournalPhase = "databases" | "files" | "undo";

export interface JournalDatabase {
  /** What the database is replaced with (the checkpoint's snapshot). */
  restore: DatabaseSnapshot;
  /** What it held when the rollback started (the safety checkpoint's snapshot): what an undo puts back. */
  safety: DatabaseSnapshot;
}

export interface RollbackJournal {
  /** 1: files only; 2: with databases and phases. */
  version: 1 | 2;
  rollbackId: string;
  componentId: string;
  componentName: string;
  root: string;
  checkpointId: string;
  manifestSha256: string;
  safetyCheckpointId: string;
  actor: string;
  startedAt: string;
  /** The process that ran the rollback (for the record: whether it still runs is the component lock's answer). */
  pid: number;
  host: string;
  restore: RestoreItem[];
  delete: DeleteItem[];
  databases?: JournalDatabase[];
  /** Absent in version 1 (files only). */
  phase?: JournalPhase;
  /** In the undo phase: how many of `databases` (from the first) had been replaced. */
  databasesRestored?: number;
  /** In the undo phase: why the databases are being put back. */
  failure?: string;
  /** The rollback moves obstacles into the quarantine (a recovery moves any that are in the way again). */
  moveObstacles?: boolean;
  /** A rollback restricted to these paths: a recovery completes it over them only. */
  paths?: string[];
  /** Written when the rollback stopped in its own process (not a crash): how far it got and why, for the recovery's messages. */
  stopped?: StopRecord;
}

export function journalPath(journalDir: string, rollbackId: string): string {
  return path.join(journalDir, `${rollbackId}.json`);
}

export function writeJournal(journalDir: string, journal: RollbackJournal): void {
  writeFileAtomic(journalPath(journalDir, journal.rollbackId), JSON.stringify(journal));
}

/** Removes the journal durably: once this returns, a crash cannot bring it back. */
export function removeJournal(journalDir: string, rollbackId: string): void {
  rmSync(journalPath(journalDir, rollbackId), { force: true });
  fsyncDirectorySync(journalDir);
}

export function listJournals(journalDir: string): RollbackJournal[] {
  let names: string[];
  try {
    names = readdirSync(journalDir);
  } catch {
    return [];
  }
  const journals: RollbackJournal[] = [];
  for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()) {
    try {
      journals.push(JSON.parse(readFileSync(path.join(journalDir, name), "utf8")) as RollbackJournal);
    } catch (error) {
      // Completed and removed by its own process while we listed.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return journals;
}

export function journalsOfComponent(journalDir: string, componentId: string): RollbackJournal[] {
  return listJournals(journalDir).filter((journal) => journal.componentId === componentId);
}
