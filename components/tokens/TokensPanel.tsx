"use client";

import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { CopyButton } from "@/components/ui/CopyButton";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { describeProblem } from "@/lib/trpc/api-problem";
import type { TokenView } from "@/lib/trpc/types";
import { tokenRoles } from "@/server/schemas";

const FIELD = "rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

const ROLE_EXPLAIN: Record<string, string> = {
  viewer: "reads",
  agent: "+ checkpoints, rollbacks",
  operator: "+ components, retention",
  admin: "+ tokens",
};

/** The command that makes an admin token on the server's machine: the way back in once no admin token is left. */
const ADMIN_TOKEN_COMMAND = "safetynet token create <name> --role admin";

function RevokeButton({ token, self, lastAdmin }: { token: TokenView; self: boolean; lastAdmin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const revoke = useMutation(
    trpc.auth.revokeToken.mutationOptions({
      onSuccess: () => {
        setOpen(false);
        return queryClient.invalidateQueries(trpc.auth.pathFilter());
      },
    }),
  );
  return (
    <AlertDialog.Root open={open} onOpenChange={(next) => (setOpen(next), revoke.reset())}>
      <AlertDialog.Trigger asChild>
        <Button variant="secondary" className="px-2.5 py-1 text-xs">
          Revoke…
        </Button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <AlertDialog.Content className="fixed left-1/2 top-1/2 z-50 w-[calc(100%-1rem)] max-w-md -translate-x-1/2 -translate-y-1/2 space-y-3 rounded-xl border border-border bg-surface p-5 shadow-2xl">
          <AlertDialog.Title className="text-lg font-semibold">
            Revoke token <span className="font-mono">{token.name}</span>?
          </AlertDialog.Title>
          <AlertDialog.Description className="text-sm text-muted">
            Every request with it is refused (401) from now on and its browser sessions end. History keeps its name. This cannot be undone: create a new token
            instead.
            {self ? <strong className="mt-2 block text-warn">This is the token you are signed in with: you will be signed out.</strong> : null}
          </AlertDialog.Description>
          {lastAdmin ? (
            <div role="alert" className="space-y-1 rounded-md border border-bad/40 bg-bad/10 px-3 py-2 text-sm" data-testid="last-admin-warning">
              <p className="font-semibold text-bad">This is the last admin token.</p>
              <p>
                Once it is revoked nobody can manage tokens from the dashboard or the API. Only the CLI, run on the server&apos;s machine with access to its data
                directory, can get back in: <code className="break-all font-mono text-xs">{ADMIN_TOKEN_COMMAND}</code>
              </p>
            </div>
          ) : null}
          {revoke.isError ? <ProblemNotice problem={describeProblem(revoke.error)} /> : null}
          <div className="flex justify-end gap-3">
            <AlertDialog.Cancel asChild>
              <Button>Cancel</Button>
            </AlertDialog.Cancel>
            <Button variant="danger" onClick={() => revoke.mutate({ name: token.name })} disabled={revoke.isPending}>
              {revoke.isPending ? "Revoking…" : "Revoke"}
            </Button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

function CreateTokenForm({ components }: { components: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(trpc.auth.createToken.mutationOptions({ onSuccess: () => queryClient.invalidateQueries(trpc.auth.pathFilter()) }));
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const scope = form.getAll("components").map(String);
    create.mutate(
      { name: String(form.get("name") ?? "").trim(), role: String(form.get("role")) as (typeof tokenRoles)[number], ...(scope.length ? { components: scope } : {}) },
      // The new secret is shown below, once; the form is cleared for the next token.
      { onSuccess: () => formElement.reset() },
    );
  }
  const problem = create.isError ? describeProblem(create.error) : null;
  const created = create.data;
  return (
    <div className="space-y-3">
      <form onSubmit={submit} aria-label="Create a token" className="space-y-3 rounded-lg border border-border bg-surface p-4">
        <div className="grid gap-3 sm:flex sm:flex-wrap sm:items-end">
          <label className="flex min-w-0 flex-col gap-1 text-xs font-medium text-muted">
            Name (the history shows it as token:name)
            <input
              name="name"
              required
              maxLength={64}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
              placeholder="e.g. build-bot"
              aria-invalid={problem?.field === "name" ? true : undefined}
              className={`${FIELD} font-mono text-foreground ${problem?.field === "name" ? "border-bad" : ""}`}
            />
          </label>
          <label className="flex min-w-0 flex-col gap-1 text-xs font-medium text-muted">
            Role
            <select name="role" defaultValue="agent" className={`${FIELD} w-full text-foreground`}>
              {tokenRoles.map((role) => (
                <option key={role} value={role}>
                  {role} — {ROLE_EXPLAIN[role]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {components.length > 0 ? (
          <fieldset className="space-y-1">
            <legend className="text-xs font-medium text-muted">Limit to components (none ticked: every component)</legend>
            <div className="flex flex-wrap gap-x-4 gap-y-1">
              {components.map((name) => (
                <label key={name} className="flex items-center gap-1.5 text-sm">
                  <input type="checkbox" name="components" value={name} className="h-4 w-4" />
                  {name}
                </label>
              ))}
            </div>
          </fieldset>
        ) : null}
        <Button type="submit" variant="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create token"}
        </Button>
        {problem ? (
          <InlineProblem problem={problem} testId="token-error" />
        ) : null}
      </form>
      {created ? (
        <div role="status" className="space-y-2 rounded-lg border border-warn/50 bg-warn/10 p-4" data-testid="created-token">
          <p className="text-sm">
            Token <strong className="font-mono">{created.name}</strong> ({created.role}
            {created.components.length ? `, only ${created.components.join(", ")}` : ""}) created. <strong>Copy it now: it is shown once</strong>; only its hash
            is kept.
          </p>
          <div className="flex items-start gap-2">
            <code className="min-w-0 flex-1 break-all rounded-md border border-border bg-surface px-3 py-2 font-mono text-xs" data-testid="token-secret">
              {created.token}
            </code>
            <CopyButton value={created.token} label="Copy the new token" />
          </div>
          <p className="text-xs text-muted">
            Give it to the agent as <code className="font-mono">SAFETYNET_TOKEN</code> (with <code className="font-mono">SAFETYNET_URL</code>).
          </p>
        </div>
      ) : null}
    </div>
  );
}

/** Whether `token` is the only admin token not revoked (revoking it leaves the dashboard and API without an admin). */
function isLastAdmin(tokens: readonly TokenView[], token: TokenView): boolean {
  return token.role === "admin" && !tokens.some((t) => t.id !== token.id && t.role === "admin" && !t.revokedAt);
}

/** API tokens for an admin: who can do what, when each was last used; create (the secret shown once) and revoke. */
export function TokensPanel({ signedInAs, components }: { signedInAs: string; components: string[] }) {
  const trpc = useTRPC();
  const tokens = useQuery(trpc.auth.listTokens.queryOptions());
  return (
    <div className="space-y-6">
      <section aria-labelledby="token-list" className="space-y-3">
        <h2 id="token-list" className="text-lg font-semibold">
          Tokens
        </h2>
        {tokens.isPending ? (
          <LoadingBlock label="Loading tokens" rows={3} />
        ) : tokens.isError ? (
          <ProblemNotice problem={describeProblem(tokens.error)} onRetry={() => void tokens.refetch()} />
        ) : (
          <ul className="divide-y divide-border rounded-lg border border-border bg-surface" data-testid="token-list">
            {tokens.data.items.map((token) => (
              <li key={token.id} className="flex flex-wrap items-center justify-between gap-3 px-4 py-3" data-testid="token-row" data-token-name={token.name} data-revoked={token.revokedAt ? "true" : "false"}>
                <div className="min-w-0 space-y-0.5">
                  <p className="flex flex-wrap items-center gap-2 text-sm">
                    <span className="font-mono font-medium">{token.name}</span>
                    <Pill tone={token.role === "admin" ? "warn" : "neutral"}>{token.role}</Pill>
                    {token.revokedAt ? <Pill tone="bad">revoked</Pill> : null}
                    {token.name === signedInAs ? <Pill tone="accent">you</Pill> : null}
                  </p>
                  <p className="text-xs text-muted">
                    {token.components.length ? `only ${token.components.join(", ")}` : "every component"} · created <Time iso={token.createdAt} mode="relative" /> · last used{" "}
                    {token.lastUsedAt ? <Time iso={token.lastUsedAt} mode="relative" /> : "never"}
                    {token.revokedAt ? (
                      <>
                        {" "}
                        · revoked <Time iso={token.revokedAt} mode="relative" />
                      </>
                    ) : null}
                  </p>
                </div>
                {token.revokedAt ? null : <RevokeButton token={token} self={token.name === signedInAs} lastAdmin={isLastAdmin(tokens.data.items, token)} />}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="token-create" className="space-y-3">
        <h2 id="token-create" className="text-lg font-semibold">
          Create a token
        </h2>
        <CreateTokenForm components={components} />
      </section>
    </div>
  );
}
