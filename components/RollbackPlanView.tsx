"use client";

import { useNow } from "@/components/hooks/useNow";
import { ReasonPill, reasonExplanation } from "@/components/ReasonPill";
import { Pill, type Tone } from "@/components/ui/Pill";
import { PlanFileRow } from "@/components/PlanFileDiff";
import { formatBytes, formatCount, formatMode, formatRelative } from "@/lib/format";
import { useFormatTime } from "@/components/ui/Time";
import type { RollbackPlan } from "@/lib/trpc/types";
import { planScopeSentence } from "@/server/rollback/plan-wording";
import { displayPath } from "@/server/byte-paths";
import { FileHistoryLink } from "@/components/file-history/FileHistoryLink";

/** Rows shown per list; the counts above always cover everything. */
const MAX_ROWS = 300;

interface ActionLook {
  label: string;
  tone: Tone;
  explain: string;
}

const ACTIONS: Record<string, ActionLook> = {
  write: { label: "overwrite", tone: "warn", explain: "content differs: the checkpoint's content is written back" },
  recreate: { label: "recreate", tone: "ok", explain: "missing now: recreated from the checkpoint" },
  replace: { label: "replace", tone: "warn", explain: "its type changed: replaced by the checkpoint's entry" },
  mode: { label: "mode", tone: "info", explain: "only the permission bits are restored" },
  mtime: { label: "mtime", tone: "neutral", explain: "only the modification time is restored" },
};

/** The same actions, said from the point of view of undoing a rollback (the target is its safety checkpoint). */
const UNDO_ACTIONS: Record<string, ActionLook> = {
  write: { label: "revert", tone: "warn", explain: "the rollback overwrote it: the content from before the rollback is written back" },
  recreate: { label: "bring back", tone: "ok", explain: "the rollback deleted it: it is brought back as it was before the rollback" },
  replace: { label: "replace", tone: "warn", explain: "the rollback changed its type: the entry from before the rollback is put back" },
  mode: { label: "mode", tone: "info", explain: "only the permission bits from before the rollback are put back" },
  mtime: { label: "mtime", tone: "neutral", explain: "only the modification time from before the rollback is put back" },
};

/** Whether the confirm token of `plan` has expired at `now`. */
export function planExpired(plan: Pick<RollbackPlan, "expiresAt">, now: number | null): boolean {
  return now !== null && new Date(plan.expiresAt).getTime() <= now;
}

function IntegrityLine({ plan }: { plan: RollbackPlan }) {
  const { objectsChecked, bytesChecked } = plan.integrity;
  return (
    <p className="flex items-start gap-2 rounded-md border border-ok/30 bg-ok/10 px-3 py-2 text-xs" data-testid="plan-integrity">
      <span aria-hidden="true" className="text-ok">
        ✓
      </span>
      <span>
        {objectsChecked === 0
          ? "Nothing has to be read from the store for this plan (it only deletes files or restores modes and times)."
          : objectsChecked === 1
            ? `The stored object this rollback needs (${formatBytes(bytesChecked)}) was re-hashed just now and matches its sha256. It is checked once more right before anything is written.`
            : `The ${formatCount(objectsChecked)} stored objects this rollback needs (${formatBytes(bytesChecked)}) were re-hashed just now and match their sha256. They are checked once more right before anything is written.`}
      </span>
    </p>
  );
}

function ScopeInWords({ plan }: { plan: RollbackPlan }) {
  const { scope } = plan;
  if (scope.kind === "all") return null;
  return (
    <section aria-labelledby="plan-scope" className="space-y-2 rounded-md border border-info/30 bg-info/5 px-3 py-2" data-testid="plan-scope">
      <h3 id="plan-scope" className="text-sm font-semibold">
        {scope.restrictedTo ? "Only these paths" : "Partial checkpoint"}
      </h3>
      <p className="text-sm" data-testid="plan-scope-sentence">
        {planScopeSentence(scope)}
      </p>
      <ul className="space-y-0.5 text-xs">
        {scope.primaries.map((p) => (
          <li key={`p:${p}`} className="flex flex-wrap items-center gap-2">
            <span className="break-all font-mono">{displayPath(p)}</span>
            <ReasonPill reason="primary" />
            <span className="text-muted">asked for</span>
            <FileHistoryLink component={plan.component} path={p} />
          </li>
        ))}
        {scope.related.map((r) => (
          <li key={`r:${r.path}`} className="flex flex-wrap items-center gap-2">
            <span className="break-all font-mono">{displayPath(r.path)}</span>
            <ReasonPill reason={r.reason} />
            <span className="text-muted">{reasonExplanation(r.reason)}</span>
            <FileHistoryLink component={plan.component} path={r.path} />
          </li>
        ))}
        {scope.relatedCount > scope.related.length ? <li className="text-muted">… and {formatCount(scope.relatedCount - scope.related.length)} more related files</li> : null}
      </ul>
      {scope.outside && scope.outside.changed > 0 ? (
        <details className="text-xs">
          <summary className="cursor-pointer text-muted">
            Changed since the checkpoint, outside its scope: left as they are ({formatCount(scope.outside.changed)})
          </summary>
          <ul className="mt-1 space-y-0.5 font-mono">
            {scope.outside.paths.map((p) => (
              <li key={p} className="break-all">
                {displayPath(p)}
              </li>
            ))}
            {scope.outside.changed > scope.outside.paths.length ? (
              <li className="font-sans text-muted">… and {formatCount(scope.outside.changed - scope.outside.paths.length)} more</li>
            ) : null}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

/** The exact plan of a rollback (or of undoing one): what will be restored and how, what deleted, the objects checked and the token's expiry. */
export function RollbackPlanView({ plan }: { plan: RollbackPlan }) {
  const now = useNow();
  const formatTime = useFormatTime();
  const expired = planExpired(plan, now);
  const undo = plan.undo !== null;
  const actions = undo ? UNDO_ACTIONS : ACTIONS;
  return (
    <div className="space-y-4" data-testid="rollback-plan" data-plan-kind={undo ? "undo" : "rollback"}>
      <dl className="grid grid-cols-2 gap-2 sm:grid-cols-4">
        {[
          { label: undo ? "Put back" : "Restore", value: formatCount(plan.restore.length), testId: "plan-restore-count" },
          { label: undo ? "Remove again" : "Delete", value: formatCount(plan.delete.length), testId: "plan-delete-count" },
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
      <IntegrityLine plan={plan} />
      <ScopeInWords plan={plan} />
      {plan.unstable.length > 0 ? (
        <section aria-labelledby="plan-unstable" className="space-y-1 rounded-md border border-warn/40 bg-warn/10 px-3 py-2 text-xs" data-testid="plan-unstable">
          <h3 id="plan-unstable" className="text-sm font-semibold">
            Left alone: {formatCount(plan.unstable.length)} {plan.unstable.length === 1 ? "file" : "files"} kept changing while the checkpoint was taken
          </h3>
          <p className="text-muted">The checkpoint holds no content for them, so this rollback leaves them as they are now.</p>
          <ul className="max-h-32 space-y-0.5 overflow-y-auto font-mono">
            {plan.unstable.map((p) => (
              <li key={p} className="break-all">
                {displayPath(p)}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {plan.obstaclesToMove && plan.obstaclesToMove.length > 0 ? (
        <section aria-labelledby="plan-obstacles" className="space-y-1 rounded-md border border-warn/40 bg-warn/10 px-3 py-2 text-xs" data-testid="plan-obstacles">
          <h3 id="plan-obstacles" className="text-sm font-semibold">
            Moved aside first: {formatCount(plan.obstaclesToMove.length)} ignored or out-of-scope {plan.obstaclesToMove.length === 1 ? "entry" : "entries"} in the way
          </h3>
          <p className="text-muted">Each goes, with everything under it, to the data directory&apos;s quarantine/&lt;rollback id&gt;/ folder; the result says where.</p>
          <ul className="max-h-32 space-y-0.5 overflow-y-auto font-mono">
            {plan.obstaclesToMove.map((o) => (
              <li key={o.path} className="break-all">
                {displayPath(o.path)} <span className="font-sans text-muted">(in the way of {displayPath(o.inTheWayOf)})</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <p className="text-xs text-muted">
        In <span className="break-all font-mono text-foreground">{plan.root}</span>. Files outside the {plan.scope.kind === "all" ? "component" : "checkpoint's scope"}, ignored
        files and unchanged files are not touched.
      </p>
      <p className={`text-xs ${expired ? "font-medium text-bad" : "text-muted"}`} data-testid="plan-expiry">
        {expired
          ? `This confirmation expired at ${formatTime(plan.expiresAt)}. Plan again to get a fresh one.`
          : `This confirmation is for exactly this plan and expires at ${formatTime(plan.expiresAt)}${now === null ? "" : ` (${formatRelative(plan.expiresAt, now)})`}. If the workspace changes before you confirm, the server refuses it.`}
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
                  {database.action === "remove"
                    ? "did not exist at the checkpoint"
                    : database.format === "raw"
                      ? `raw bytes of a file SQLite would not read as a database, ${formatBytes(database.bytes)}`
                      : `${formatCount(database.tables)} tables, ${formatCount(database.rows)} rows, ${formatBytes(database.bytes)}`}
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
          {plan.paths
            ? "These paths already match this checkpoint: no file will change. Confirming still records a rollback."
            : "The workspace already matches this checkpoint: no file will change. Confirming still records a rollback and restores the component's metadata."}
        </p>
      ) : null}

      {plan.restore.length > 0 ? (
        <section aria-labelledby="plan-restore" className="space-y-1.5">
          <h3 id="plan-restore" className="text-sm font-semibold">
            {undo ? "Put back as they were before the rollback" : "Restored from the checkpoint"} ({formatCount(plan.restore.length)})
          </h3>
          <ul className="max-h-72 divide-y divide-border overflow-y-auto rounded-md border border-border text-sm">
            {plan.restore.slice(0, MAX_ROWS).map((item) => {
              const action = actions[item.action] ?? { label: item.action, tone: "neutral" as const, explain: item.action };
              return (
                <PlanFileRow
                  key={item.path}
                  checkpointId={plan.checkpointId}
                  path={item.path}
                  label={displayPath(item.path)}
                  aside={
                    <>
                      {item.modeChange ? (
                        <span className="font-mono text-info" data-testid="plan-mode-change" title="The permission bits are put back too: live now → after the rollback">
                          mode {formatMode(item.modeChange.live)} → {formatMode(item.modeChange.restored)}
                        </span>
                      ) : null}
                      <FileHistoryLink component={plan.component} path={item.path} />
                      {item.kind === "file" && item.size > 0 ? formatBytes(item.size) : item.kind !== "file" ? item.kind : null}
                      <Pill tone={action.tone} title={action.explain}>
                        {action.label}
                      </Pill>
                    </>
                  }
                />
              );
            })}
          </ul>
          {plan.restore.length > MAX_ROWS ? <p className="text-xs text-muted">… and {formatCount(plan.restore.length - MAX_ROWS)} more.</p> : null}
        </section>
      ) : null}

      {plan.delete.length > 0 ? (
        <section aria-labelledby="plan-delete" className="space-y-1.5">
          <h3 id="plan-delete" className="text-sm font-semibold">
            {undo ? "Removed again: the rollback had restored these" : "Deleted: created after the checkpoint"} ({formatCount(plan.delete.length)})
          </h3>
          <ul className="max-h-56 divide-y divide-border overflow-y-auto rounded-md border border-bad/30 text-sm">
            {plan.delete.slice(0, MAX_ROWS).map((item) => (
              <PlanFileRow
                key={item.path}
                checkpointId={plan.checkpointId}
                path={item.path}
                label={
                  <>
                    <span aria-hidden="true" className="mr-2 text-bad">
                      −
                    </span>
                    {displayPath(item.path)}
                  </>
                }
                aside={
                  <>
                    <FileHistoryLink component={plan.component} path={item.path} />
                    {item.kind}
                  </>
                }
              />
            ))}
          </ul>
          {plan.delete.length > MAX_ROWS ? <p className="text-xs text-muted">… and {formatCount(plan.delete.length - MAX_ROWS)} more.</p> : null}
        </section>
      ) : null}
    </div>
  );
}
