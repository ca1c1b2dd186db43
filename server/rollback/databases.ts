/**
 * The database part of a rollback (journal.ts describes the phases). Databases
 * are replaced before any file is written: when one cannot be replaced (its
 * server is down, another process holds it, the restore fails), the ones
 * replaced before it are put back from the rollback's safety snapshots, no file
 * has changed, and the rollback fails saying so; the component is then exactly
 * as it was before the rollback. Each step is journaled first, so a crash
 * anywhere is completed (or undone) consistently by recovery.
 */
import type { Core } from "../core";
import { dataPaths } from "../core";
import { ConflictError, IntegrityError, InvalidInputError, NotFoundError, OperationFailedError, SafetyNetError } from "../errors";
import { restoreDatabase, type DatabaseOwner } from "../dbstate/databases";
import { removeJournal, writeJournal, type RollbackJournal } from "./journal";

/**
 * The error of a failed database part: the cause's kind (a lock held elsewhere stays
 * a CONFLICT, an unreachable server a FAILED), with the whole story in the message,
 * and `details.undone`: whether the databases already replaced were put back.
 */
function databasePartFailed(message: string, cause: unknown, undone: boolean): SafetyNetError {
  const known = cause instanceof SafetyNetError ? cause : null;
  const details = { ...(known?.details ?? {}), databasePart: true, undone, journalKept: !undone };
  switch (known?.code) {
    case "CONFLICT":
      return new ConflictError(message, details, { cause });
    case "INVALID_INPUT":
      return new InvalidInputError(message, details, { cause });
    case "NOT_FOUND":
      return new NotFoundError(message, details, { cause });
    case "INTEGRITY":
      return new IntegrityError(message, details, { cause });
    default:
      return new OperationFailedError(message, details, { cause });
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Puts back, from the safety snapshots, the databases the journal says were replaced (last first); then the journal is done with. */
export async function undoDatabases(core: Core, journal: RollbackJournal, owner: DatabaseOwner): Promise<void> {
  const replaced = (journal.databases ?? []).slice(0, journal.databasesRestored ?? 0);
  for (const database of [...replaced].reverse()) await restoreDatabase(core, owner, database.safety);
  removeJournal(dataPaths(core.config.dataDir).journal, journal.rollbackId);
}

/**
 * Replaces every database of the journal with its snapshot, in order, and moves
 * the journal on to the files phase. On a failure it switches the journal to
 * undo and puts back what it had replaced; the error's details say whether that
 * worked (`undone`: nothing of the rollback remains) or the journal is kept for recovery.
 */
export async function restoreJournalDatabases(core: Core, journal: RollbackJournal, owner: DatabaseOwner): Promise<void> {
  const journalDir = dataPaths(core.config.dataDir).journal;
  const databases = journal.databases ?? [];
  for (let i = 0; i < databases.length; i++) {
    const database = databases[i] as NonNullable<RollbackJournal["databases"]>[number];
    try {
      await restoreDatabase(core, owner, database.restore);
    } catch (error) {
      const failure = `database target ${database.restore.target} could not be restored: ${messageOf(error)}`;
      const undo: RollbackJournal = { ...journal, phase: "undo", databasesRestored: i, failure };
      writeJournal(journalDir, undo);
      const before = i === 0 ? "" : `the ${i} database(s) replaced before it were put back from the safety checkpoint, `;
      try {
        await undoDatabases(core, undo, owner);
      } catch (undoError) {
        throw databasePartFailed(
          `rollback failed: ${failure}; no file was changed, but putting back the databases already replaced failed too (${messageOf(undoError)}): ` +
            `the journal was kept, and the next operation on the component (or \`safetynet recover\`) puts them back`,
          error,
          false,
        );
      }
      throw databasePartFailed(`rollback failed: ${failure}; ${before}no file was changed: the component is as it was before the rollback`, error, true);
    }
  }
  writeJournal(journalDir, { ...journal, phase: "files" });
}
