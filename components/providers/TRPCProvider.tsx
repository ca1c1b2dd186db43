"use client";

/**
 * The browser side of tRPC: one QueryClient per tab and a tRPC client that
 * batches calls to /api/trpc on the same origin (the httpOnly session cookie
 * goes along by itself). Plain JSON, no transformer, like every other client.
 */
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import type { AppRouter } from "@/server/api/root";
import { MAX_BATCH_SIZE } from "@/server/api/http";
import { connectionState } from "@/lib/client/connection-state";
import { makeQueryClient, type ProblemObserver } from "@/lib/trpc/query-client";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

let browserQueryClient: QueryClient | undefined;

/** Failures every panel would otherwise report on its own become page-wide state (a banner, the header). */
const browserObserver: ProblemObserver = {
  onProblem(problem) {
    if (problem.kind === "network") connectionState.reportUnreachable();
    else if (problem.kind === "unauthenticated") connectionState.reportSessionEnded();
    else connectionState.reportReachable();
  },
  onAnswer: () => connectionState.reportReachable(),
};

function getQueryClient(): QueryClient {
  // On the server every render gets its own client so requests never share data.
  if (typeof window === "undefined") return makeQueryClient();
  browserQueryClient ??= makeQueryClient(browserObserver);
  return browserQueryClient;
}

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const queryClient = getQueryClient();
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      // Same origin: fetch's default credentials mode ("same-origin") sends the session cookie.
      // The server refuses batches over MAX_BATCH_SIZE calls; the link splits larger ones.
      links: [httpBatchLink({ url: "/api/trpc", maxItems: MAX_BATCH_SIZE })],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
