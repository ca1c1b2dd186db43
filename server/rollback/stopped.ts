/**
 * What a rollback says when it stops after its journal was written, and what a
 * recovery says when it cannot complete one. From the journal on, the workspace
 * may be partly rolled back and only completing the journal settles it: the bare
 * error of the write that failed ("no space left on device while writing
 * .a.txt.sn-…") would leave people to guess, and a cause's own "nothing was
 * changed" (true of one attempt) would be false of the tree. So these messages
 * say the state (partly applied, journaled, pending), where it stopped, and what
 * completes it; the details carry the same for --json and the API.
 */
import path from "node:path";
import { asSafetyNetError, OperationFailedError, type SafetyNetError } from "../errors";
import { isTempSiblingName } from "./apply";
import type { DeleteItem, RestoreItem } from "./plan";
import type { RollbackJournal } from "./journal";

/** What completes a pending rollback (the same recovery also runs before every command and at server start). */
export const COMPLETE_WITH = "safetynet recover";

/**
 * Where it stopped: before its first file change (prepare), deleting what the
 * checkpoint does not hold, restoring files, folders and links, putting folder
 * metadata back and flushing (settle), or recording its end in the database.
 */
export type StopStep = "prepare" | "delete" | "restore" | "settle" | "record";

export interface StopPoint {
  step: StopStep;
  /** The root-relative path it was working on, when one is known. */
  path: string | null;
}

/** Kept in the journal when a rollback stops in its own process, so a later recovery can say how far it got. */
export interface StopRecord {
  at: string;
  error: string;
  partlyApplied: boolean;
  changesMade: number;
  changesPlanned: number;
  failedAt: StopPoint;
}

interface PlanPaths {
  restore: readonly RestoreItem[];
  delete: readonly DeleteItem[];
}

/** Follows a rollback (or a recovery) through its phases and apply's progress, so a failure can say where it stopped. */
export class RollbackTracker {
  private phase: "prepare" | "files" | "record" = "prepare";
  private done = 0;
  databasesReplaced = false;

  constructor(
    private readonly root: string,
    private readonly plan: PlanPaths,
  ) {}

  /** apply's onProgress. */
  readonly onProgress = (done: number): void => {
    this.done = done;
  };

  filesStarting(): void {
    this.phase = "files";
  }

  filesDone(): void {
    this.phase = "record";
  }

  get changesPlanned(): number {
    return this.plan.restore.length + this.plan.delete.length;
  }

  get changesMade(): number {
    return this.phase === "record" ? this.changesPlanned : this.done;
  }

  get partlyApplied(): boolean {
    return this.changesMade > 0 || this.databasesReplaced;
  }

  /** Where `error` stopped it: the phase, apply's position in it, and the plan path the failing file-system call named. */
  stopPoint(error: unknown): StopPoint {
    if (this.phase === "prepare") return { step: "prepare", path: null };
    if (this.phase === "record") return { step: "record", path: null };
    const step: StopStep = this.done < this.plan.delete.length ? "delete" : this.done < this.changesPlanned ? "restore" : "settle";
    return { step, path: this.planPathOf(culpritOf(error)) };
  }

  /** The plan path behind an absolute path a failure named: itself, or the file a temp sibling was being written for. */
  private planPathOf(culprit: string | null): string | null {
    if (culprit === null || !culprit.startsWith(this.root + "/")) return null;
    const rel = culprit.slice(this.root.length + 1);
    if (this.plan.restore.some((item) => item.path === rel) || this.plan.delete.some((item) => item.path === rel)) return rel;
    const dir = path.posix.dirname(rel);
    const name = path.posix.basename(rel);
    const written = this.plan.restore.find((item) => path.posix.dirname(item.path) === dir && isTempSiblingName(name, path.posix.basename(item.path)));
    return written?.path ?? rel;
  }
}

function culpritOf(error: unknown): string | null {
  const culprit = asSafetyNetError(error)?.details.path;
  return typeof culprit === "string" ? culprit : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A cause's own "nothing was changed" (or "written") speaks of one attempt; said of
 * a component with a pending rollback it would be false. Dropped from causes quoted here.
 */
export function withoutNothingChanged(message: string): string {
  return message.replace(/;\s*nothing (?:was|has been) (?:changed|written)/g, "");
}

function where(point: StopPoint): string {
  const at = point.path === null ? "" : ` ${point.path}`;
  switch (point.step) {
    case "prepare":
      return "before its first change";
    case "delete":
      return `while deleting${at || " files the checkpoint does not hold"}`;
    case "restore":
      return `while restoring${at || " files"}`;
    case "settle":
      return "after its last change, while putting folder modes and times back and flushing to disk";
    case "record":
      return "after its last change, while recording its end";
  }
}

/** What to fix before completing it: room on the disk that is full, or whatever else the cause names. */
function fixFor(error: unknown, root: string): string {
  const known = asSafetyNetError(error);
  if (known?.code !== "NO_SPACE") return "fix what stopped it";
  const culprit = culpritOf(error);
  const named = typeof known.details.root === "string" ? known.details.root : culprit === null || culprit === root || culprit.startsWith(root + "/") ? root : culprit;
  return `free some space on the disk of ${named}`;
}

function appliedSoFar(made: number, planned: number, databasesReplaced: boolean, when: string): string {
  const files = `${made} of ${planned} change${planned === 1 ? "" : "s"} made${when}`;
  if (made > 0) return `partly applied (${databasesReplaced ? `its databases replaced, ${files}` : files})`;
  if (databasesReplaced) return `partly applied (its databases replaced, none of its ${planned} file change${planned === 1 ? "" : "s"} made${when})`;
  return `not applied yet (none of its ${planned} change${planned === 1 ? "" : "s"} made${when})`;
}

export interface StoppedRollback {
  rollbackId: string;
  component: string;
  checkpointId: string;
  root: string;
  journal: string;
}

/**
 * The error a rollback throws when it stops after its journal was written: the
 * cause's code (so the same exit code and HTTP status), a message saying it is
 * pending, how far it got, where it stopped and what completes it.
 */
export function rollbackStoppedError(cause: unknown, rollback: StoppedRollback, tracker: RollbackTracker | null): { error: SafetyNetError; record: StopRecord } {
  const failedAt = tracker?.stopPoint(cause) ?? { step: "prepare", path: null };
  const record: StopRecord = {
    at: new Date().toISOString(),
    error: messageOf(cause),
    partlyApplied: tracker?.partlyApplied ?? false,
    changesMade: tracker?.changesMade ?? 0,
    changesPlanned: tracker?.changesPlanned ?? 0,
    failedAt,
  };
  const state = appliedSoFar(record.changesMade, record.changesPlanned, tracker?.databasesReplaced ?? false, "");
  const message =
    `rollback ${rollback.rollbackId} of ${rollback.component} to ${rollback.checkpointId} stopped part-way ${where(failedAt)}: ${record.error}; ` +
    `the rollback is ${state} and journaled in ${rollback.journal}, and nothing else may change ${rollback.component} until it is completed: ` +
    `${fixFor(cause, rollback.root)}, then run \`${COMPLETE_WITH}\` to complete it exactly (any later command tries that first too)`;
  const details = {
    rollbackId: rollback.rollbackId,
    component: rollback.component,
    checkpointId: rollback.checkpointId,
    pending: true,
    partlyApplied: record.partlyApplied,
    journal: rollback.journal,
    failedAt,
    changesMade: record.changesMade,
    changesPlanned: record.changesPlanned,
    completeWith: COMPLETE_WITH,
    cause: record.error,
  };
  const known = asSafetyNetError(cause);
  if (known) {
    const SameKind = known.constructor as new (message: string, details?: Record<string, unknown>, options?: ErrorOptions) => SafetyNetError;
    return { error: new SameKind(message, { ...known.details, ...details }, { cause }), record };
  }
  return { error: new OperationFailedError(message, details, { cause }), record };
}

/** What a failed recovery reports (recover.ts's RecoveredRollback carries these). */
export interface PendingReport {
  /** The cause, without a "nothing was changed" of its own. */
  error: string;
  pending: true;
  /** true / false when known; null when the rollback's process died and nobody recorded how far it got. */
  partlyApplied: boolean | null;
  journal: string;
  failedAt: StopPoint;
  completeWith: string;
  /** The whole story, for people: still pending, how far it got, where this attempt stopped, what to do. */
  message: string;
  /** What the message says after the cause (how far it got, journaled, what to do): for callers that quote the cause themselves. */
  state: string;
}

/** A recovery of `journal` that could not complete it, described from its own attempt (tracker) and the journal's stop record. */
export function pendingReport(cause: unknown, journal: RollbackJournal, journalFile: string, tracker: RollbackTracker | null): PendingReport {
  const failedAt = tracker?.stopPoint(cause) ?? { step: "prepare", path: null };
  const error = withoutNothingChanged(messageOf(cause));
  const stopped = journal.stopped;
  let partlyApplied: boolean | null;
  let applied: string;
  if (tracker && tracker.partlyApplied) {
    partlyApplied = true;
    applied = `is ${appliedSoFar(tracker.changesMade, tracker.changesPlanned, tracker.databasesReplaced, " by this attempt")} and journaled in ${journalFile}`;
  } else if (stopped) {
    partlyApplied = stopped.partlyApplied;
    applied = `is ${appliedSoFar(stopped.changesMade, stopped.changesPlanned, false, " when it stopped")} and journaled in ${journalFile}`;
  } else {
    partlyApplied = null;
    applied = `was interrupted (its process ended), so the workspace may be partly rolled back; it is journaled in ${journalFile}`;
  }
  const state = `the rollback ${applied}, and nothing else may change ${journal.componentName} until it is completed: ${fixFor(cause, journal.root)}, then run \`${COMPLETE_WITH}\``;
  const how = failedAt.step === "prepare" ? "was refused" : `stopped ${where(failedAt)}`;
  return {
    error,
    pending: true,
    partlyApplied,
    journal: journalFile,
    failedAt,
    completeWith: COMPLETE_WITH,
    message: `rollback ${journal.rollbackId} of ${journal.componentName} to ${journal.checkpointId} is still pending: completing it ${how}: ${error}; ${state}`,
    state,
  };
}
