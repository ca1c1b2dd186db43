/**
 * The journal is a hard barrier. Every operation that changes a component (a
 * checkpoint, a rollback, pin, delete, re-registration) runs through
 * withComponentMutation: it takes the component's lock and, while it holds it,
 * first completes any rollback of that component left unfinished by a crash or a
 * failure. If that cannot be done, the operation is refused naming the journal,
 * so no new work is ever laid over a half-done rollback (and a later recovery can
 * never replay an old plan over newer work).
 */
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { ConflictError, OperationFailedError } from "../errors";
import { databaseFileState, databasePath } from "../db";
import { withComponentLock, type ComponentRef } from "../locks";
import { journalPath, journalsOfComponent } from "./journal";
import { completeJournal } from "./recover";
import { COMPLETE_WITH } from "./stopped";
import { assertStoreLocationCurrent } from "../store/store-location";

export async function withComponentMutation<T>(core: Core, component: ComponentRef, operation: string, actor: Actor, fn: () => Promise<T>): Promise<T> {
  assertDatabaseInPlace(core);
  const paths = dataPaths(core.config.dataDir);
  return withComponentLock(core.locks, component, operation, async () => {
    // Under the store's shared hold: no sweep or migration runs now. Objects are written where every process looks,
    // and the cache must not vouch for what an earlier sweep deleted.
    assertStoreLocationCurrent(core.store.dir, core.store.bucket?.location ?? null);
    await core.store.syncCollections();
    for (const journal of journalsOfComponent(paths.journal, component.id)) {
      const result = await completeJournal(core, journal, actor);
      if (result && result.outcome !== "recovered") {
        const file = journalPath(paths.journal, journal.rollbackId);
        throw new ConflictError(
          `component "${component.name}" has an interrupted rollback ${journal.rollbackId} (journal ${file}) that could not be completed: ${result.error}; ` +
            `it is still pending: ${result.state ?? `nothing else may change the component until it is completed: fix the cause, then run \`${COMPLETE_WITH}\``}`,
          {
            lock: `component "${component.name}"`,
            journal: file,
            rollbackId: journal.rollbackId,
            pending: true,
            partlyApplied: result.partlyApplied ?? null,
            failedAt: result.failedAt ?? null,
            completeWith: COMPLETE_WITH,
          },
        );
      }
    }
    try {
      return await fn();
    } finally {
      // What the operation downloaded counts against the bucket's cache bound from now on.
      core.store.trimCache();
    }
  });
}

/**
 * A database file deleted or replaced under a running process would take every
 * change made afterwards with it: refuse to change anything until the process
 * is restarted (which then refuses a lost database and points to rebuild-db).
 */
export function assertDatabaseInPlace(core: Core): void {
  const state = databaseFileState(core.config.dataDir);
  if (state === "ok") return;
  const file = databasePath(core.config.dataDir);
  throw new OperationFailedError(
    `the database ${file} was ${state === "missing" ? "deleted" : "replaced by another file"} while this process runs; nothing was changed. Restart the server (or \`safetynet rebuild-db\` if the file is lost)`,
    { database: file, state },
  );
}
