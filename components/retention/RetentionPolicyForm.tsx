"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { Time } from "@/components/ui/Time";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { describeProblem } from "@/lib/trpc/api-problem";
import { PolicyForecastView } from "./PolicyForecastView";
import type { RetentionPolicies } from "@/lib/trpc/types";

const RULES = [
  { name: "keepDays", label: "Keep days", explain: "keep every checkpoint younger than this many days" },
  { name: "keepLast", label: "Keep last", explain: "keep this many newest checkpoints" },
  { name: "keepDaily", label: "Keep daily", explain: "keep the newest checkpoint of each of this many recent days" },
  { name: "keepWeekly", label: "Keep weekly", explain: "keep the newest checkpoint of each of this many recent weeks" },
] as const;

type RuleName = (typeof RULES)[number]["name"];
type Rules = Record<RuleName, number | null>;
type StoredPolicy = RetentionPolicies["policies"][number];

const FIELD = "w-full rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

function describe(rules: Rules): string {
  const parts = RULES.filter((r) => rules[r.name] !== null).map((r) => `${r.label.toLowerCase()} ${rules[r.name]}`);
  return parts.length ? parts.join(", ") : "no rules (only each checkpoint's own retention date)";
}

function scopeLabel(scope: string): string {
  if (scope === "global") return "Global (every component without its own policy)";
  if (scope === "safety") return "Safety checkpoints (taken before rollbacks)";
  if (scope === "default") return "Default (no policy set)";
  return `Component ${scope.replace(/^component:/, "")}`;
}

/** The stored policies and the one edit form: pick a scope, set its rules, save or reset. Operators with an unscoped token may change them. */
export function RetentionPolicyForm({ canEdit, editBlocked }: { canEdit: boolean; editBlocked: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const policies = useQuery(trpc.retention.get.queryOptions({}));
  const [scope, setScope] = useState("global");
  const save = useMutation(
    trpc.retention.set.mutationOptions({
      onSuccess: () => Promise.all([queryClient.invalidateQueries(trpc.retention.pathFilter()), queryClient.invalidateQueries(trpc.history.pathFilter())]),
    }),
  );
  // The same procedure with dryRun: what the policy in the form would do, nothing saved.
  const preview = useMutation(trpc.retention.set.mutationOptions());
  if (policies.isPending) return <LoadingBlock label="Loading retention policies" rows={3} />;
  if (policies.isError) return <ProblemNotice problem={describeProblem(policies.error)} onRetry={() => void policies.refetch()} />;
  const view = policies.data;
  const stored = new Map<string, StoredPolicy>(view.policies.map((p) => [p.scope, p]));
  const current = stored.get(scope);
  const target = scope === "global" ? {} : scope === "safety" ? { safety: true } : { component: scope.replace(/^component:/, "") };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const dryRun = (event.nativeEvent as SubmitEvent).submitter?.getAttribute("value") === "preview";
    const form = new FormData(event.currentTarget);
    const rules = Object.fromEntries(
      RULES.map((r) => {
        const raw = String(form.get(r.name) ?? "").trim();
        return [r.name, raw === "" ? null : Number(raw)];
      }),
    ) as Rules;
    const applyToExisting = form.get("applyToExisting") === "on";
    if (dryRun) {
      save.reset();
      preview.mutate({ ...target, ...rules, applyToExisting, dryRun: true });
    } else {
      preview.reset();
      save.mutate({ ...target, ...rules, applyToExisting });
    }
  }

  const problem = save.isError ? describeProblem(save.error) : preview.isError ? describeProblem(preview.error) : null;
  return (
    <div className="space-y-4">
      <div className="overflow-x-auto rounded-lg border border-border bg-surface">
        <table className="w-full text-left text-sm" data-testid="retention-policies">
          <caption className="sr-only">What applies to each component</caption>
          <thead className="border-b border-border text-xs uppercase tracking-wide text-muted">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">
                Component
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Its checkpoints
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Its safety checkpoints
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {view.effective.map((e) => (
              <tr key={e.component} className="align-top">
                <th scope="row" className="px-4 py-2 font-medium">
                  {e.component}
                </th>
                <td className="px-4 py-2 text-xs">
                  {describe(e.manual)} <span className="text-muted">· from {scopeLabel(e.manual.source).split(" (")[0]?.toLowerCase()}</span>
                </td>
                <td className="px-4 py-2 text-xs">
                  {describe(e.safety)} <span className="text-muted">· from {scopeLabel(e.safety.source).split(" (")[0]?.toLowerCase()}</span>
                </td>
              </tr>
            ))}
            {view.effective.length === 0 ? (
              <tr>
                <td colSpan={3} className="px-4 py-3 text-sm text-muted">
                  No components yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <p className="text-xs text-muted">
        Whatever the policy, these are never removed: pinned checkpoints, the newest checkpoint of each component, and a checkpoint an in-flight rollback or an open plan
        refers to. Each checkpoint is also kept until its own retention date ({view.defaultRetentionDays} days unless set when it was taken).
      </p>

      <form onSubmit={submit} onChange={() => preview.reset()} aria-label="Edit a retention policy" className="space-y-3 rounded-lg border border-border bg-surface p-4" key={`${scope}:${current?.updatedAt ?? "none"}`}>
        <div className="flex flex-wrap items-end gap-3">
          <label className="flex min-w-[14rem] flex-col gap-1 text-xs font-medium text-muted">
            Policy of
            <select value={scope} onChange={(event) => (setScope(event.target.value), save.reset(), preview.reset())} className={FIELD} name="scope">
              <option value="global">{scopeLabel("global")}</option>
              <option value="safety">{scopeLabel("safety")}</option>
              {view.effective.map((e) => (
                <option key={e.component} value={`component:${e.component}`}>
                  {scopeLabel(`component:${e.component}`)}
                </option>
              ))}
            </select>
          </label>
          <p className="text-xs text-muted">
            {current ? (
              <>
                Set: {describe(current)} · changed <Time iso={current.updatedAt} mode="relative" />
              </>
            ) : (
              "Not set: the next scope up applies."
            )}
          </p>
        </div>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {RULES.map((rule) => (
            <label key={rule.name} className="flex flex-col gap-1 text-xs font-medium text-muted" title={rule.explain}>
              {rule.label}
              <input
                name={rule.name}
                type="number"
                min={0}
                step={1}
                inputMode="numeric"
                defaultValue={current?.[rule.name] ?? ""}
                placeholder="not used"
                disabled={!canEdit}
                aria-invalid={problem?.field === rule.name ? true : undefined}
                className={`${FIELD} text-foreground ${problem?.field === rule.name ? "border-bad" : ""}`}
              />
              <span className="font-normal">{rule.explain}</span>
            </label>
          ))}
        </div>
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" name="applyToExisting" disabled={!canEdit} className="mt-0.5 h-4 w-4" aria-describedby="apply-to-existing-explain" />
          <span>
            Apply to existing checkpoints&apos; dates
            <span id="apply-to-existing-explain" className="block text-xs text-muted">
              Off: each existing checkpoint keeps the retention date it was taken with, so the policy removes nothing before those dates pass. On: their dates are
              brought forward to what this policy gives them (the end of keep days, or at once without it), never pushed later.
            </span>
          </span>
        </label>
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" value="preview" disabled={!canEdit || preview.isPending || save.isPending} title={editBlocked ?? "Say what this policy would do; save nothing"}>
            {preview.isPending ? "Working it out…" : "Preview this policy"}
          </Button>
          <Button type="submit" variant="primary" disabled={!canEdit || save.isPending} title={editBlocked ?? undefined}>
            {save.isPending ? "Saving…" : "Save policy"}
          </Button>
          {current ? (
            <Button onClick={() => save.mutate({ ...target, reset: true })} disabled={!canEdit || save.isPending} title={editBlocked ?? "Remove this policy: the next scope up applies"}>
              Reset to {scope === "global" ? "the default" : "global"}
            </Button>
          ) : null}
          {editBlocked ? <span className="text-xs text-muted">{editBlocked}.</span> : null}
        </div>
        {problem ? (
          <InlineProblem problem={problem} testId="policy-error" />
        ) : null}
        {preview.isSuccess ? <PolicyForecastView forecast={preview.data.forecast} saved={false} /> : null}
        {save.isSuccess ? (
          <div role="status" className="space-y-2">
            <p className="text-sm text-ok" data-testid="policy-saved">
              Saved: {save.data.policy ? describe(save.data.policy) : "policy removed"} for {scopeLabel(save.data.scope).split(" (")[0]?.toLowerCase()}.
            </p>
            <PolicyForecastView forecast={save.data.forecast} saved />
          </div>
        ) : null}
      </form>
    </div>
  );
}
