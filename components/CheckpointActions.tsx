"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { RollbackDialog } from "@/components/RollbackDialog";
import { VerifyResultView } from "@/components/VerifyResultView";
import { Button, buttonClasses } from "@/components/ui/Button";
import { DamagedDownloads } from "@/components/DamagedDownloads";
import { isDamaged, rollbackBlockedReason } from "@/lib/checkpoint-state";
import { describeProblem } from "@/lib/trpc/api-problem";
import { roleAllows, type CheckpointDetail, type ViewerRole } from "@/lib/trpc/types";

/** A safety checkpoint's Roll back is the undo of its rollback, and says so (until that rollback is undone). */
function undoTrigger(checkpoint: Pick<CheckpointDetail, "kind" | "callerMeta" | "undoneBy">): { undo?: { rollbackId: string }; trigger?: { label: string; variant: "secondary" } } {
  const rollbackId = checkpoint.kind === "safety" && !checkpoint.undoneBy ? checkpoint.callerMeta.rollbackId : null;
  return typeof rollbackId === "string" ? { undo: { rollbackId }, trigger: { label: "Undo…", variant: "secondary" } } : {};
}

function needs(role: ViewerRole, required: ViewerRole, what: string): string | null {
  return roleAllows(role, required) ? null : `${what} needs the ${required} role or higher; your token has ${role}`;
}

/** Verify, Pin/Unpin, Roll back… and the archive downloads of one checkpoint, each enabled by the signed-in token's role and the checkpoint's state. */
export function CheckpointActions({ checkpoint, role }: { checkpoint: CheckpointDetail; role: ViewerRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Verify and pin change the checkpoint, the timeline, the history and the stats, not the workspace: the diff stays.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.checkpoint.get.queryFilter()),
      queryClient.invalidateQueries(trpc.checkpoint.list.infiniteQueryFilter()),
      queryClient.invalidateQueries(trpc.component.pathFilter()),
      queryClient.invalidateQueries(trpc.history.pathFilter()),
      queryClient.invalidateQueries(trpc.stats.pathFilter()),
    ]);
  const verify = useMutation(trpc.checkpoint.verify.mutationOptions({ onSettled: refresh }));
  const pin = useMutation(trpc.checkpoint.pin.mutationOptions({ onSettled: refresh }));

  const verifyBlocked = needs(role, "agent", "Verifying");
  const pinBlocked = needs(role, "operator", "Pinning");
  const rollbackBlocked = rollbackBlockedReason(checkpoint, role);
  const blocked = [verifyBlocked, pinBlocked, rollbackBlocked].filter((reason): reason is string => Boolean(reason));
  const archive = (format: "tar.gz" | "zip") => `/api/checkpoints/${encodeURIComponent(checkpoint.id)}/archive?format=${format}`;

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-2">
        <Button onClick={() => verify.mutate({ id: checkpoint.id })} disabled={Boolean(verifyBlocked) || verify.isPending} title={verifyBlocked ?? "Re-hash the manifest and every stored object"}>
          {verify.isPending ? "Verifying…" : "Verify"}
        </Button>
        <Button
          onClick={() => pin.mutate({ id: checkpoint.id, pinned: !checkpoint.pinned })}
          disabled={Boolean(pinBlocked) || pin.isPending}
          title={pinBlocked ?? (checkpoint.pinned ? "Let retention remove it again when it expires" : "Keep it regardless of retention")}
        >
          {pin.isPending ? "Saving…" : checkpoint.pinned ? "Unpin" : "Pin"}
        </Button>
        <RollbackDialog
          target={{ id: checkpoint.id, component: checkpoint.component, createdAt: checkpoint.createdAt, reason: checkpoint.reason }}
          disabledReason={rollbackBlocked}
          {...undoTrigger(checkpoint)}
        />
        {isDamaged(checkpoint) ? (
          <span className="sm:ml-auto">
            <DamagedDownloads checkpoint={checkpoint} />
          </span>
        ) : (
        <span className="flex flex-wrap items-center gap-2 sm:ml-auto">
          <span className="text-xs text-muted">Download</span>
          <a
            href={archive("tar.gz")}
            download
            className={buttonClasses("secondary", "py-1.5 text-xs")}
            data-testid="download-tar"
            title="The checkpoint's files as a .tar.gz: modes, mtimes and symlinks kept; every object verified while it streams"
          >
            .tar.gz
          </a>
          <a
            href={archive("zip")}
            download
            className={buttonClasses("secondary", "py-1.5 text-xs")}
            data-testid="download-zip"
            title="The checkpoint's files as a .zip (modes and symlinks kept; zip keeps mtimes to 2 s)"
          >
            .zip
          </a>
        </span>
        )}
      </div>
      {blocked.length > 0 ? (
        <ul className="space-y-0.5 text-xs text-muted" data-testid="blocked-reasons">
          {blocked.map((reason) => (
            <li key={reason}>{reason[0]?.toUpperCase() + reason.slice(1)}.</li>
          ))}
        </ul>
      ) : null}
      {verify.isSuccess ? <VerifyResultView result={verify.data} /> : null}
      {verify.isError ? <ProblemNotice problem={describeProblem(verify.error)} onRetry={() => verify.mutate({ id: checkpoint.id })} /> : null}
      {pin.isError ? <ProblemNotice problem={describeProblem(pin.error)} /> : null}
    </div>
  );
}
