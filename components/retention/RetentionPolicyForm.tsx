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
  if (policies.isPending) return <LoadingBlock label="Loading retention policies" rows={3} />;
  if (policies.isError) return <ProblemNotice problem={describeProblem(policies.error)} onRetry={() => void policies.refetch()} />;
  const view = policies.data;
  const stored = new Map<string, StoredPolicy>(view.policies.map((p) => [p.scope, p]));
  const current = stored.get(scope);
  const target = scope === "global" ? {} : scope === "safety" ? { safety: true } : { component: scope.replace(/^component:/, "") };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const rules = Object.fromEntries(
      RULES.map((r) => {
        const raw = String(form.get(r.name) ?? "").trim();
        return [r.name, raw === "" ? null : Number(raw)];
      }),
    ) as Rules;
    save.mutate({ ...target, ...rules });
  }

  const problem = save.isError ? describeProblem(save.error) : null;
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

      <form onSubmit={submit} aria-label="Edit a retention policy" className="space-y-3 rounded-lg border border-border bg-surface p-4" key={`${scope}:${current?.updatedAt ?? "none"}`}>
        <div className="flex flex-wrap items-end gap-3">
          <label className="flex min-w-[14rem] flex-col gap-1 text-xs font-medium text-muted">
            Policy of
            <select value={scope} onChange={(event) => (setScope(event.target.value), save.reset())} className={FIELD} name="scope">
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
        <div className="flex flex-wrap items-center gap-3">
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
        {save.isSuccess ? (
          <p role="status" className="text-sm text-ok" data-testid="policy-saved">
            Saved: {save.data.policy ? describe(save.data.policy) : "policy removed"} for {scopeLabel(save.data.scope).split(" (")[0]?.toLowerCase()}.
          </p>
        ) : null}
      </form>
    </div>
  );
}
