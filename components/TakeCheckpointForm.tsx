"use client";

import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { NewBytes } from "@/components/NewBytes";
import { ReasonPill } from "@/components/ReasonPill";
import { Time } from "@/components/ui/Time";
import { Button } from "@/components/ui/Button";
import { CopyableId } from "@/components/ui/CopyButton";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import { roleAllows, type ViewerRole } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

const FIELD = "rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

/** The paths field: one per line (commas also split), blanks dropped. */
function pathsOf(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/**
 * "Take checkpoint" on a component page (agents and operators): a reason, optional
 * paths (each with its tests, siblings and imports), pin, retention days. The
 * server validates; a refusal names the field.
 */
export function TakeCheckpointForm({ component, role }: { component: string; role: ViewerRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const create = useMutation(
    trpc.checkpoint.create.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.component.pathFilter()),
          queryClient.invalidateQueries(trpc.checkpoint.pathFilter()),
          queryClient.invalidateQueries(trpc.history.pathFilter()),
          queryClient.invalidateQueries(trpc.stats.pathFilter()),
        ]),
    }),
  );
  if (!roleAllows(role, "agent")) return null;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const paths = pathsOf(String(form.get("paths") ?? ""));
    const reason = String(form.get("reason") ?? "").trim();
    const days = String(form.get("retentionDays") ?? "").trim();
    create.mutate({
      component,
      ...(reason ? { reason } : {}),
      ...(paths.length ? { paths } : {}),
      ...(days ? { retentionDays: Number(days) } : {}),
      pinned: form.get("pinned") === "on",
    });
  }

  const problem = create.isError ? describeProblem(create.error) : null;
  const created = create.data;
  return (
    <section aria-labelledby="take-checkpoint" className="rounded-lg border border-border bg-surface">
      <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-3">
        <h2 id="take-checkpoint" className="text-sm font-semibold">
          Take a checkpoint
        </h2>
        <Button variant={open ? "ghost" : "primary"} onClick={() => setOpen(!open)} aria-expanded={open} aria-controls="take-checkpoint-form">
          {open ? "Hide" : "Take checkpoint…"}
        </Button>
      </div>
      {open ? (
        <form id="take-checkpoint-form" onSubmit={submit} className="grid gap-3 border-t border-border px-4 py-4 sm:grid-cols-2" aria-label="Take a checkpoint">
          <label className="flex flex-col gap-1 text-xs font-medium text-muted sm:col-span-2">
            Reason
            <input name="reason" maxLength={2000} placeholder="e.g. before the agent refactors login" className={`${FIELD} text-foreground`} />
          </label>
          <label className="flex flex-col gap-1 text-xs font-medium text-muted sm:col-span-2">
            Paths (optional, one per line; empty = the whole component)
            <textarea
              name="paths"
              rows={3}
              placeholder={"src/login.ts\nsrc/session/"}
              className={`${FIELD} font-mono text-foreground ${problem?.field?.startsWith("paths") ? "border-bad" : ""}`}
              aria-invalid={problem?.field?.startsWith("paths") ? true : undefined}
            />
            <span className="font-normal">Each file comes with its tests, same-name siblings and relative imports; the result lists them and why.</span>
          </label>
          <label className="flex flex-col gap-1 text-xs font-medium text-muted">
            Keep at least (days)
            <input
              name="retentionDays"
              type="number"
              min={0}
              max={36500}
              step={1}
              placeholder="7"
              className={`${FIELD} text-foreground ${problem?.field === "retentionDays" ? "border-bad" : ""}`}
              aria-invalid={problem?.field === "retentionDays" ? true : undefined}
            />
          </label>
          <label className="flex items-center gap-2 self-end text-sm">
            <input name="pinned" type="checkbox" className="h-4 w-4" />
            Pin (retention never removes it)
          </label>
          <div className="flex items-center gap-3 sm:col-span-2">
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {create.isPending ? "Taking checkpoint…" : "Take checkpoint"}
            </Button>
          </div>
          {problem ? (
            <InlineProblem problem={problem} testId="take-checkpoint-error" className="sm:col-span-2" />
          ) : null}
          {created ? (
            <div role="status" className="space-y-2 rounded-md border border-ok/40 bg-ok/10 px-3 py-2 text-sm sm:col-span-2" data-testid="take-checkpoint-result">
              <p className="flex flex-wrap items-center gap-2">
                <strong>Checkpoint taken:</strong>
                <CopyableId value={created.id} label="Copy the new checkpoint id" />
                <Link href={`/checkpoints/${created.id}`} className="text-accent hover:underline">
                  open
                </Link>
              </p>
              <p className="text-xs text-muted">
                {formatCount(created.files)} files · {formatBytes(created.bytes)} ·{" "}
                <NewBytes bytes={created.bytes} newBytes={created.newBytes} manifestBytes={null} /> · took {formatDuration(created.durationMs)} ·{" "}
                {created.pinned ? "pinned" : <>kept until <Time iso={created.retentionUntil} mode="absolute" /></>}
              </p>
              {created.related.length > 0 ? (
                <ul className="space-y-0.5 text-xs">
                  {created.related.map((r) => (
                    <li key={r.path} className="flex flex-wrap items-center gap-2">
                      <span className="break-all font-mono">{displayPath(r.path)}</span>
                      <ReasonPill reason={r.reason} />
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}
