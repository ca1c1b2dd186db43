"use client";

import { useNow } from "@/components/hooks/useNow";
import { Pill, type Tone } from "@/components/ui/Pill";
import { formatBytes, formatCount, formatRelative, formatUtc } from "@/lib/format";
import type { RollbackPlan } from "@/lib/trpc/types";

/** Rows shown per list; the counts above always cover everything. */
const MAX_ROWS = 300;

const ACTIONS: Record<string, { label: string; tone: Tone; explain: string }> = {
  write: { label: "overwrite", tone: "warn", explain: "content differs: the checkpoint's content is written back" },
  recreate: { label: "recreate", tone: "ok", explain: "missing now: recreated from the checkpoint" },
  replace: { label: "replace", tone: "warn", explain: "its type changed: replaced by the checkpoint's entry" },
  mode: { label: "mode", tone: "info", explain: "only the permission bits are restored" },
  mtime: { label: "mtime", tone: "neutral", explain: "only the modification time is restored" },
};

/** Whether the confirm token of `plan` has expired at `now`. */
export function planExpired(plan: Pick<RollbackPlan, "expiresAt">, now: number | null): boolean {
  return now !== null && new Date(plan.expiresAt).getTime() <= now;
}

/** The exact plan of a rollback: what will be restored (and how) and deleted, with counts, bytes and the token's expiry. */
export function RollbackPlanView({ plan }: { plan: RollbackPlan }) {
  const now = useNow();
  const expired = planExpired(plan, now);
  return (
    <div className="space-y-4" data-testid="rollback-plan">
      <dl className="grid grid-cols-2 gap-2 sm:grid-cols-4">
        {[
          { label: "Restore", value: formatCount(plan.restore.length), testId: "plan-restore-count" },
          { label: "Delete", value: formatCount(plan.delete.length), testId: "plan-delete-count" },
          { label: "Unchanged", value: formatCount(plan.unchanged), testId: "plan-unchanged-count" },
          { label: "Writes", value: formatBytes(plan.bytesToWrite), testId: "plan-bytes" },
        ].map((stat) => (
          <div key={stat.label} className="rounded-md border border-border bg-background px-3 py-2">
            <dt className="text-xs text-muted">{stat.label}</dt>
            <dd className="text-lg font-semibold tabular-nums" data-testid={stat.testId}>
              {stat.value}
            </dd>
          </div>
        ))}
      </dl>
      <p className="text-xs text-muted">
        In <span className="break-all font-mono text-foreground">{plan.root}</span>. Files outside the component, ignored files and unchanged
        files are not touched.
      </p>
      <p className={`text-xs ${expired ? "font-medium text-bad" : "text-muted"}`} data-testid="plan-expiry">
        {expired
          ? `This confirmation expired at ${formatUtc(plan.expiresAt)}. Plan again to get a fresh one.`
          : `This confirmation is for exactly this plan and expires at ${formatUtc(plan.expiresAt)}${now === null ? "" : ` (${formatRelative(plan.expiresAt, now)})`}. If the workspace changes before you confirm, the server refuses it.`}
      </p>

      {plan.databases.length > 0 ? (
        <section aria-labelledby="plan-databases" className="space-y-1.5" data-testid="plan-databases">
          <h3 id="plan-databases" className="text-sm font-semibold">
            Databases replaced whole ({formatCount(plan.databases.length)})
          </h3>
          <ul className="divide-y divide-border rounded-md border border-warn/40 text-sm">
            {plan.databases.map((database) => (
              <li key={database.target} className="flex items-center justify-between gap-3 px-3 py-1.5">
                <span className="min-w-0 break-all font-mono text-xs">{database.target}</span>
                <span className="flex shrink-0 items-center gap-2 text-xs text-muted">
                  {database.action === "remove" ? "did not exist at the checkpoint" : `${formatCount(database.tables)} tables, ${formatCount(database.rows)} rows, ${formatBytes(database.bytes)}`}
                  <Pill tone="warn" title={database.action === "remove" ? "the database is removed" : "the database is replaced by the checkpoint's snapshot, in one transaction"}>
                    {database.action}
                  </Pill>
                </span>
              </li>
            ))}
          </ul>
          <p className="text-xs text-muted">
            Replaced first, each in one transaction. If one cannot be replaced, the ones already replaced are put back and no file is changed.
          </p>
        </section>
      ) : null}

      {plan.restore.length === 0 && plan.delete.length === 0 && plan.databases.length === 0 ? (
        <p className="rounded-md border border-ok/30 bg-ok/10 px-3 py-2 text-sm">
          The workspace already matches this checkpoint: no file will change. Confirming still records a rollback and restores the component&apos;s
          metadata.
        </p>
      ) : null}

      {plan.restore.length > 0 ? (
        <section aria-labelledby="plan-restore" className="space-y-1.5">
          <h3 id="plan-restore" className="text-sm font-semibold">
            Restored from the checkpoint ({formatCount(plan.restore.length)})
          </h3>
          <ul className="max-h-48 divide-y divide-border overflow-y-auto rounded-md border border-border text-sm">
            {plan.restore.slice(0, MAX_ROWS).map((item) => {
              const action = ACTIONS[item.action] ?? { label: item.action, tone: "neutral" as const, explain: item.action };
              return (
                <li key={item.path} className="flex items-center justify-between gap-3 px-3 py-1.5">
                  <span className="min-w-0 break-all font-mono text-xs">{item.path}</span>
                  <span className="flex shrink-0 items-center gap-2 text-xs text-muted">
                    {item.kind === "file" && item.size > 0 ? formatBytes(item.size) : item.kind !== "file" ? item.kind : null}
                    <Pill tone={action.tone} title={action.explain}>
                      {action.label}
                    </Pill>
                  </span>
                </li>
              );
            })}
          </ul>
          {plan.restore.length > MAX_ROWS ? <p className="text-xs text-muted">… and {formatCount(plan.restore.length - MAX_ROWS)} more.</p> : null}
        </section>
      ) : null}

      {plan.delete.length > 0 ? (
        <section aria-labelledby="plan-delete" className="space-y-1.5">
          <h3 id="plan-delete" className="text-sm font-semibold">
            Deleted: created after the checkpoint ({formatCount(plan.delete.length)})
          </h3>
          <ul className="max-h-40 divide-y divide-border overflow-y-auto rounded-md border border-bad/30 text-sm">
            {plan.delete.slice(0, MAX_ROWS).map((item) => (
              <li key={item.path} className="flex items-center justify-between gap-3 px-3 py-1.5">
                <span className="min-w-0 break-all font-mono text-xs">
                  <span aria-hidden="true" className="mr-2 text-bad">
                    −
                  </span>
                  {item.path}
                </span>
                <span className="shrink-0 text-xs text-muted">{item.kind}</span>
              </li>
            ))}
          </ul>
          {plan.delete.length > MAX_ROWS ? <p className="text-xs text-muted">… and {formatCount(plan.delete.length - MAX_ROWS)} more.</p> : null}
        </section>
      ) : null}


    </div>
  );
}
