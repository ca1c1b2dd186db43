/**
 * The rollback journal: written (and fsynced) before the first byte of the
 * workspace changes, removed after the last. A journal found at start-up means a
 * rollback was interrupted; recover.ts completes it from the journal alone.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file";
import type { DeleteItem, RestoreItem } from "./plan";

export interface RollbackJournal {
  version: 1;
  rollbackId: string;
  componentId: string;
  componentName: string;
  root: string;
  checkpointId: string;
  manifestSha256: string;
  safetyCheckpointId: string;
  actor: string;
  startedAt: string;
  /** The process running the rollback: a journal whose process is alive is a rollback in progress, not a crash. */
  pid: number;
  host: string;
  restore: RestoreItem[];
  delete: DeleteItem[];
}

export function journalPath(journalDir: string, rollbackId: string): string {
  return path.join(journalDir, `${rollbackId}.json`);
}

export function writeJournal(journalDir: string, journal: RollbackJournal): void {
  writeFileAtomic(journalPath(journalDir, journal.rollbackId), JSON.stringify(journal));
}

export function removeJournal(journalDir: string, rollbackId: string): void {
  rmSync(journalPath(journalDir, rollbackId), { force: true });
}

export function listJournals(journalDir: string): RollbackJournal[] {
  let names: string[];
  try {
    names = readdirSync(journalDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => JSON.parse(readFileSync(path.join(journalDir, name), "utf8")) as RollbackJournal);
}

/** True when the process that wrote the journal is still running on this machine (its rollback is in progress). */
export function journalOwnerAlive(journal: RollbackJournal): boolean {
  if (journal.host !== os.hostname() || journal.pid === process.pid) return false;
  try {
    process.kill(journal.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
