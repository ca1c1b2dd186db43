"use client";

/**
 * The rollback confirmation (FR-003). Opening it asks the server for the plan
 * (rollback.plan) and shows exactly what will be restored and deleted; Confirm
 * sends the plan's single-use confirmToken (rollback.execute). If the workspace
 * changed in between, the server refuses the token and the operator plans again.
 */
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { useNow } from "@/components/hooks/useNow";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { RollbackPlanView, planExpired } from "@/components/RollbackPlanView";
import { RollbackResultView } from "@/components/RollbackResultView";
import { Button } from "@/components/ui/Button";
import { describeProblem, type ApiProblem } from "@/lib/trpc/api-problem";
import { formatCount, formatUtc } from "@/lib/format";

export interface RollbackTarget {
  id: string;
  component: string;
  createdAt: string;
  reason: string | null;
}

function RefusalNotice({ title, problem }: { title: string; problem: ApiProblem }) {
  const advice =
    problem.field === "confirmToken"
      ? "Nothing was changed. Plan again to see what a rollback would do now."
      : problem.kind === "conflict"
        ? "Another operation holds this component's lock. Nothing was changed; wait for it to finish and plan again."
        : problem.kind === "integrity"
          ? "Nothing was changed. Verify the checkpoint to see the damaged objects, or pick another checkpoint."
          : problem.kind === "forbidden"
            ? "Your token's role is too low for rollbacks (agent or higher is needed)."
            : problem.kind === "unauthenticated"
              ? "Your session ended. Sign in again, then plan again."
              : "Plan again, or use the CLI (safetynet rollback <id>) which works without the server.";
  return (
    <div role="alert" className="rounded-md border border-bad/40 bg-bad/10 px-4 py-3" data-testid="rollback-error">
      <p className="text-sm font-semibold text-bad">{title}</p>
      <p className="mt-1 break-words font-mono text-xs">
        {problem.status !== null ? `${problem.status} ${problem.code}: ` : ""}
        {problem.message}
      </p>
      <p className="mt-2 text-xs text-muted">{advice}</p>
    </div>
  );
}

export function RollbackDialog({ target, disabledReason }: { target: RollbackTarget; disabledReason?: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const [open, setOpen] = useState(false);
  const plan = useMutation(trpc.rollback.plan.mutationOptions());
  const execute = useMutation(
    trpc.rollback.execute.mutationOptions({
      // Success or failure, the history, the stats, the timeline and the diff have changed.
      onSettled: () => queryClient.invalidateQueries(),
    }),
  );

  function planAgain() {
    execute.reset();
    plan.mutate({ checkpointId: target.id });
  }

  function onOpenChange(next: boolean) {
    // A running rollback cannot be walked away from mid-way; the dialog stays until it answers.
    if (!next && execute.isPending) return;
    setOpen(next);
    if (next) planAgain();
    else {
      plan.reset();
      execute.reset();
    }
  }

  const planned = plan.data;
  const expired = planned ? planExpired(planned, now) : false;
  const canConfirm = planned && !expired && execute.isIdle;
  const changes = planned ? planned.restore.length + planned.delete.length : 0;

  return (
    <AlertDialog.Root open={open} onOpenChange={onOpenChange}>
      <AlertDialog.Trigger asChild>
        <Button variant="danger" disabled={Boolean(disabledReason)} title={disabledReason ?? undefined}>
          Roll back…
        </Button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <AlertDialog.Content
          data-testid="rollback-dialog"
          onEscapeKeyDown={(event) => {
            if (execute.isPending) event.preventDefault();
          }}
          className="fixed left-1/2 top-1/2 z-50 flex max-h-[88vh] w-[calc(100%-2rem)] max-w-2xl -translate-x-1/2 -translate-y-1/2 flex-col rounded-xl border border-border bg-surface shadow-2xl"
        >
          <div className="border-b border-border px-6 pb-4 pt-5">
            <AlertDialog.Title className="text-lg font-semibold">
              Roll back <span className="font-mono">{target.component}</span> to {formatUtc(target.createdAt)}?
            </AlertDialog.Title>
            <AlertDialog.Description className="mt-1 text-sm text-muted">
              Checkpoint <span className="font-mono">{target.id}</span>
              {target.reason ? <> — “{target.reason}”</> : null}. The current state is saved as a safety checkpoint first, so this rollback can be
              undone.
            </AlertDialog.Description>
          </div>

          <div className="min-h-0 flex-1 space-y-4 overflow-y-auto px-6 py-4">
            {plan.isPending ? <LoadingBlock label="Working out the plan: comparing the checkpoint with the workspace" rows={3} /> : null}
            {plan.isError ? <RefusalNotice title="The plan could not be made" problem={describeProblem(plan.error)} /> : null}
            {execute.isSuccess ? (
              <RollbackResultView result={execute.data} />
            ) : planned ? (
              <>
                <RollbackPlanView plan={planned} />
                {execute.isError ? <RefusalNotice title="The rollback was refused" problem={describeProblem(execute.error)} /> : null}
              </>
            ) : null}
          </div>

          <div className="flex flex-wrap items-center justify-end gap-3 border-t border-border px-6 py-4">
            {execute.isSuccess ? (
              <AlertDialog.Cancel asChild>
                <Button variant="primary">Close</Button>
              </AlertDialog.Cancel>
            ) : (
              <>
                <AlertDialog.Cancel asChild>
                  <Button disabled={execute.isPending}>Cancel</Button>
                </AlertDialog.Cancel>
                {plan.isError || execute.isError || expired ? (
                  <Button onClick={planAgain} disabled={plan.isPending}>
                    Plan again
                  </Button>
                ) : null}
                <Button variant="danger" onClick={() => planned && execute.mutate({ checkpointId: target.id, confirmToken: planned.confirmToken })} disabled={!canConfirm}>
                  {execute.isPending ? "Rolling back…" : changes === 0 ? "Confirm rollback" : `Confirm: roll back ${formatCount(changes)} change${changes === 1 ? "" : "s"}`}
                </Button>
              </>
            )}
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
