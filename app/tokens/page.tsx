import type { Metadata } from "next";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { TokensPanel } from "@/components/tokens/TokensPanel";
import { HydrateClient, load, requireViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Tokens · Safety Net" };

export default async function TokensPage() {
  const viewer = await requireViewer("/tokens");
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  // Admins only: anyone else gets the server's 403, said plainly.
  const tokens = await load((qc) => qc.fetchQuery(trpc.auth.listTokens.queryOptions()));
  if (tokens.problem) return <ProblemNotice problem={tokens.problem} className="mx-auto max-w-xl" />;
  const components = await load((qc) => qc.fetchQuery(trpc.component.list.queryOptions()));
  return (
    <HydrateClient>
      <div className="space-y-6">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">API tokens</h1>
          <p className="text-sm text-muted">
            Give each agent its own token with the lowest role it needs and, ideally, only the components it may touch. Everything it does is recorded as token:name.
          </p>
        </div>
        <TokensPanel signedInAs={viewer.data.name} components={(components.data?.items ?? []).map((c) => c.name)} />
      </div>
    </HydrateClient>
  );
}
