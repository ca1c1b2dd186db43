"use client";

/**
 * The rollback confirmation, used wherever a rollback can start (a timeline card,
 * a history row, the checkpoint page). Opening it asks the server for the plan
 * (rollback.plan, which also re-hashes the stored objects the plan needs) and
 * shows exactly what will be restored and deleted; Confirm sends the plan's
 * single-use confirmToken (rollback.execute). A refusal is shown in full above the
 * plan. After a rollback, "Undo this rollback" plans the way back (to its safety
 * checkpoint) in the same dialog at once.
 */
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { useNow } from "@/components/hooks/useNow";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { RollbackPlanView, planExpired } from "@/components/RollbackPlanView";
import { RollbackResultView } from "@/components/RollbackResultView";
import { RestoreOnlyNote } from "@/components/file-history/RestoreOnlyNote";
import { Button, type ButtonVariant } from "@/components/ui/Button";
import { damagedFilesOf, describeProblem, obstaclesOf, pendingRollbackOf, scopeRefusal, type ApiProblem } from "@/lib/trpc/api-problem";
import { formatCount } from "@/lib/format";
import { Time } from "@/components/ui/Time";
import type { RollbackResult, ViewerRole } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

export interface RollbackTarget {
  id: string;
  component: string;
  createdAt: string;
  reason: string | null;
}

/** Files listed in a refusal; the message and the checkpoint page name the rest. */
const LISTED_FILES = 20;

/** Whether planning again could help: not when the stored data is damaged or the token may not do it. */
function worthPlanningAgain(problem: ApiProblem): boolean {
  return problem.kind !== "integrity" && problem.kind !== "forbidden" && problem.kind !== "unauthenticated" && problem.kind !== "not-found";
}

function refusalTitle(problem: ApiProblem, step: "plan" | "execute"): string {
  if (pendingRollbackOf(problem)) {
    return problem.kind === "conflict" ? "Refused: an interrupted rollback of this component is still pending" : "The rollback stopped part-way and is still pending";
  }
  const component = scopeRefusal(problem);
  if (component) return `This token may not act on component ${component}`;
  if (problem.kind === "integrity") return "Refused: stored data this rollback needs is damaged";
  if (problem.kind === "conflict" && obstaclesOf(problem).length > 0) return "Refused: files the rollback may not touch are in the way";
  if (problem.kind === "conflict") return "Refused: another operation is running on this component";
  if (problem.field === "confirmToken") return "The confirmation was refused";
  if (problem.kind === "unauthenticated") return "Your session ended";
  return step === "plan" ? "The plan could not be made" : "The rollback was refused";
}

function refusalAdvice(problem: ApiProblem, checkpointId: string): string {
  const pending = pendingRollbackOf(problem);
  if (pending) {
    // Never "nothing was changed": the workspace can be half rolled back until the journal is completed.
    const state =
      pending.partlyApplied === false
        ? "None of its changes was made yet, but it is journaled"
        : pending.partlyApplied
          ? "The workspace is partly rolled back, and the rollback is journaled"
          : "The workspace may be partly rolled back, and the rollback is journaled";
    return (
      `${state}${pending.journal ? ` (${displayPath(pending.journal)})` : ""}: nothing else may change this component until it is completed. ` +
      `Fix what stopped it (the message above says what), then run npx ${pending.completeWith} on the server's data directory; the server also completes it before its next change to this component, and when it restarts.`
    );
  }
  if (problem.field === "confirmToken") return "Nothing was changed. Plan again to see what a rollback would do now.";
  if (problem.kind === "integrity")
    return "Nothing was changed, and planning again will not help: the stored copy of these files no longer matches their sha256. Pick another checkpoint; the checkpoint page lists every damaged file.";
  if (problem.kind === "conflict" && obstaclesOf(problem).length > 0)
    return "Nothing was changed. These files are ignored or outside the checkpoint's scope, so a rollback never touches them; move or delete them yourself, then plan again, or have the rollback move them aside into the data directory's quarantine.";
  if (problem.kind === "conflict") return "Another operation holds this component's lock. Nothing was changed; wait for it to finish and plan again.";
  if (scopeRefusal(problem)) return "Nothing was changed. Sign in with a token that includes this component.";
  if (problem.kind === "forbidden") return "Your token's role is too low for rollbacks (agent or higher is needed).";
  if (problem.kind === "unauthenticated") return "Your session ended (it expired or its token was revoked); nothing was changed. Sign in again (see the banner above), then plan again.";
  return `Plan again, or use the CLI (npx safetynet rollback ${checkpointId}), which works without the server.`;
}

function RefusalNotice({ problem, step, checkpointId }: { problem: ApiProblem; step: "plan" | "execute"; checkpointId: string }) {
  const damaged = damagedFilesOf(problem);
  const obstacles = obstaclesOf(problem);
  return (
    <div role="alert" className="space-y-2 rounded-md border border-bad/40 bg-bad/10 px-4 py-3" data-testid="rollback-error" data-problem={problem.kind}>
      <p className="text-sm font-semibold text-bad">{refusalTitle(problem, step)}</p>
      {problem.kind === "unauthenticated" ? null : (
        <p className="break-words font-mono text-xs">
          {problem.status !== null ? `${problem.status} ${problem.code}: ` : ""}
          {displayPath(problem.message)}
        </p>
      )}
      {damaged.length > 0 ? (
        <ul aria-label="Damaged files" className="space-y-0.5 font-mono text-xs">
          {damaged.slice(0, LISTED_FILES).map((file) => (
            <li key={`${file.path}:${file.state}`} className="break-all">
              <span className="font-semibold text-bad">{file.state}</span> {file.path ?? "(the manifest itself)"}
            </li>
          ))}
          {damaged.length > LISTED_FILES ? <li className="font-sans text-muted">… and {formatCount(damaged.length - LISTED_FILES)} more</li> : null}
        </ul>
      ) : null}
      {obstacles.length > 0 ? (
        <ul aria-label="In the way" className="space-y-1 text-xs">
          {obstacles.slice(0, LISTED_FILES).map((o) => (
            <li key={o.path} className="break-all">
              to restore <span className="font-mono">{displayPath(o.path)}</span>, in the way: <span className="font-mono">{o.inTheWay.join(", ")}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <p className="text-xs text-muted" data-testid="rollback-error-advice">
        {refusalAdvice(problem, checkpointId)}
      </p>
    </div>
  );
}

interface TriggerLook {
  label?: string;
  variant?: ButtonVariant;
  className?: string;
  /** Not offered (any more), while a dialog it opened stays open: data refreshed under it must not close it. */
  hidden?: boolean;
}

/** The rollback being undone: the target is then its safety checkpoint. */
export interface UndoOf {
  rollbackId: string;
}

/** `paths`: restore only these paths from the checkpoint (a file's history: Restore this version); the plan, token and rollback cover nothing else. */
export function RollbackDialog({
  target,
  disabledReason,
  trigger = {},
  undo = null,
  paths,
}: {
  target: RollbackTarget;
  disabledReason?: string | null;
  trigger?: TriggerLook;
  undo?: UndoOf | null;
  paths?: string[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const [open, setOpen] = useState(false);
  // The checkpoint planned against: the target, or after "Undo this rollback" the rollback's safety checkpoint.
  const [current, setCurrent] = useState<{ id: string; undoing: UndoOf | null }>({ id: target.id, undoing: undo });
  const plan = useMutation(trpc.rollback.plan.mutationOptions());
  const execute = useMutation(
    trpc.rollback.execute.mutationOptions({
      // Success or failure, the history, the stats, the timeline and the diff have changed.
      onSettled: () => queryClient.invalidateQueries(),
    }),
  );

  // Whether the plan shown was asked to move obstacles aside (its execution must ask the same).
  const [moveObstacles, setMoveObstacles] = useState(false);

  function planFor(checkpointId: string, move = false) {
    execute.reset();
    setMoveObstacles(move);
    // Undoing plans against the rollback's safety checkpoint, which already holds only those paths.
    const restrictTo = checkpointId === target.id ? paths : undefined;
    plan.mutate({ checkpointId, ...(move ? { moveObstacles: true } : {}), ...(restrictTo ? { paths: restrictTo } : {}) });
  }

  function onOpenChange(next: boolean) {
    // A running rollback cannot be walked away from mid-way; the dialog stays until it answers.
    if (!next && execute.isPending) return;
    setOpen(next);
    if (next) {
      setCurrent({ id: target.id, undoing: undo });
      planFor(target.id);
    } else {
      plan.reset();
      execute.reset();
    }
  }

  function undoLastRollback(result: RollbackResult) {
    if (!result.safetyCheckpointId) return;
    setCurrent({ id: result.safetyCheckpointId, undoing: { rollbackId: result.rollbackId } });
    planFor(result.safetyCheckpointId);
  }

  const planned = plan.data;
  const expired = planned ? planExpired(planned, now) : false;
  const canConfirm = planned && !expired && execute.isIdle;
  const changes = planned ? planned.restore.length + planned.delete.length : 0;
  const refusal = plan.isError ? { problem: describeProblem(plan.error), step: "plan" as const } : execute.isError ? { problem: describeProblem(execute.error), step: "execute" as const } : null;
  const undoing = current.undoing;

  return (
    <AlertDialog.Root open={open} onOpenChange={onOpenChange}>
      <AlertDialog.Trigger asChild>
        <Button
          variant={trigger.variant ?? "danger"}
          className={trigger.className}
          hidden={trigger.hidden}
          disabled={Boolean(disabledReason)}
          title={disabledReason ?? undefined}
        >
          {trigger.label ?? "Roll back…"}
        </Button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <AlertDialog.Content
          data-testid="rollback-dialog"
          onEscapeKeyDown={(event) => {
            if (execute.isPending) event.preventDefault();
          }}
          className="fixed left-1/2 top-1/2 z-50 flex max-h-[92vh] w-[calc(100%-1rem)] max-w-2xl -translate-x-1/2 -translate-y-1/2 flex-col rounded-xl border border-border bg-surface shadow-2xl sm:w-[calc(100%-2rem)]"
        >
          <div className="border-b border-border px-4 pb-4 pt-5 sm:px-6">
            <AlertDialog.Title className="text-lg font-semibold" data-testid="rollback-dialog-title">
              {execute.isSuccess ? (
                <ResultTitle result={execute.data} undoing={undoing} target={target} />
              ) : execute.isError ? (
                undoing ? (
                  <>
                    Undo of <span className="font-mono text-base">{undoing.rollbackId}</span> failed
                  </>
                ) : (
                  "Rollback failed"
                )
              ) : undoing ? (
                <>
                  Undo rollback <span className="font-mono text-base">{undoing.rollbackId}</span> of <span className="font-mono">{target.component}</span>?
                </>
              ) : paths ? (
                <>
                  Restore {paths.length === 1 ? <span className="break-all font-mono">{displayPath(paths[0] ?? "")}</span> : `${paths.length} paths`} of{" "}
                  <span className="font-mono">{target.component}</span> as of <Time iso={target.createdAt} mode="absolute" />?
                </>
              ) : (
                <>
                  Roll back <span className="font-mono">{target.component}</span> to <Time iso={target.createdAt} mode="absolute" />?
                </>
              )}
            </AlertDialog.Title>
            <AlertDialog.Description className="mt-1 text-sm text-muted">
              {undoing ? (
                <>
                  Puts the workspace back as it was just before that rollback (its safety checkpoint <span className="font-mono">{current.id}</span>).
                </>
              ) : (
                <>
                  Checkpoint <span className="font-mono">{target.id}</span>
                  {target.reason ? <> — “{target.reason}”</> : null}.
                </>
              )}{" "}
              The current state is saved as a safety checkpoint first, so this can be undone too.
            </AlertDialog.Description>
          </div>

          {refusal ? (
            <div className="border-b border-border px-4 py-3 sm:px-6">
              <RefusalNotice problem={refusal.problem} step={refusal.step} checkpointId={current.id} />
            </div>
          ) : null}

          <div className="min-h-0 flex-1 space-y-4 overflow-y-auto px-4 py-4 sm:px-6">
            {plan.isPending ? <LoadingBlock label="Working out the plan: comparing the checkpoint with the workspace and re-hashing the stored objects it needs" rows={3} /> : null}
            {paths && !undoing && planned && !execute.isSuccess ? <RestoreOnlyNote plan={planned} /> : null}
            {execute.isSuccess ? <RollbackResultView result={execute.data} undoing={undoing !== null} /> : planned ? <RollbackPlanView plan={planned} /> : null}
          </div>

          <div className="flex flex-wrap items-center justify-end gap-3 border-t border-border px-4 py-4 sm:px-6">
            {execute.isSuccess ? (
              <>
                {execute.data.safetyCheckpointId ? (
                  <Button onClick={() => undoLastRollback(execute.data)} disabled={plan.isPending}>
                    Undo this {undoing ? "undo" : "rollback"}
                  </Button>
                ) : null}
                <AlertDialog.Cancel asChild>
                  <Button variant="primary">Close</Button>
                </AlertDialog.Cancel>
              </>
            ) : (
              <>
                <AlertDialog.Cancel asChild>
                  <Button disabled={execute.isPending}>Cancel</Button>
                </AlertDialog.Cancel>
                {(refusal && worthPlanningAgain(refusal.problem)) || expired ? (
                  <Button onClick={() => planFor(current.id, moveObstacles && !refusal)} disabled={plan.isPending}>
                    Plan again
                  </Button>
                ) : null}
                {refusal && refusal.problem.kind === "conflict" && obstaclesOf(refusal.problem).length > 0 ? (
                  <Button onClick={() => planFor(current.id, true)} disabled={plan.isPending}>
                    Move them to the quarantine
                  </Button>
                ) : null}
                <Button
                  variant="danger"
                  onClick={() =>
                    planned &&
                    execute.mutate({ checkpointId: current.id, confirmToken: planned.confirmToken, ...(moveObstacles ? { moveObstacles: true } : {}), ...(planned.paths ? { paths: planned.paths } : {}) })
                  }
                  disabled={!canConfirm}
                >
                  {execute.isPending
                    ? undoing
                      ? "Undoing…"
                      : "Rolling back…"
                    : changes === 0
                      ? undoing
                        ? "Confirm undo"
                        : "Confirm rollback"
                      : `Confirm: ${undoing ? "undo" : "roll back"} ${formatCount(changes)} change${changes === 1 ? "" : "s"}`}
                </Button>
              </>
            )}
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

/** What happened, once it did: the question the dialog asked is answered. */
function ResultTitle({ result, undoing, target }: { result: RollbackResult; undoing: UndoOf | null; target: RollbackTarget }) {
  if (undoing) {
    return (
      <>
        Undid <span className="font-mono text-base">{undoing.rollbackId}</span>
      </>
    );
  }
  return (
    <>
      Rolled back <span className="font-mono">{result.component}</span> to <Time iso={target.createdAt} mode="absolute" />
    </>
  );
}

/** Why a card's Roll back button is disabled, said under it (a viewer is told by the role, not on every card). */
export function RollbackBlockedNote({ reason, role }: { reason: string | null; role: ViewerRole }) {
  if (!reason || role === "viewer") return null;
  return (
    <p className="mt-2 text-right text-xs text-muted" data-testid="rollback-blocked">
      {reason}.
    </p>
  );
}
