/**
 * tRPC for React Server Components: the same routers, called in-process with a
 * context built from the incoming request's credentials (session cookie or
 * Bearer header), and a per-request QueryClient whose cache is handed to the
 * browser through <HydrateClient>. Server-only (next/headers).
 */
import { dehydrate, HydrationBoundary, type QueryClient } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache, type ReactNode } from "react";
import { appRouter, type AppRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { PEER_ADDRESS_HEADER } from "@/server/auth/client-address";
import { loginPathFor } from "@/server/auth/return-path";
import { SESSION_COOKIE } from "@/server/auth/sessions";
import { describeProblem, type ApiProblem } from "./api-problem";
import { makeQueryClient } from "./query-client";
import type { Viewer } from "./types";

/** One QueryClient per request. */
export const getQueryClient = cache(makeQueryClient);

/** The credentials the router authenticates, and who sent them (for throttling); nothing else of the request is passed on. */
const FORWARDED_HEADERS = ["cookie", "authorization", PEER_ADDRESS_HEADER, "x-forwarded-for"] as const;

const getContext = cache(async () => {
  const incoming = await headers();
  const forwarded = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = incoming.get(name);
    if (value) forwarded.set(name, value);
  }
  return createTRPCContext({ req: new Request("http://rsc.internal/", { headers: forwarded }) });
});

/** `trpc.checkpoint.get.queryOptions({ id })` on the server, for prefetchQuery / fetchQuery. */
export const trpc = createTRPCOptionsProxy<AppRouter>({ router: appRouter, ctx: getContext, queryClient: getQueryClient });

/** Sends what this request prefetched to the client components below it. */
export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}

export type Loaded<T> = { data: T; problem: null } | { data: null; problem: ApiProblem };

/**
 * Runs server-side queries (their results stay in the request's cache for
 * hydration) and turns a failure into an ApiProblem the page can show:
 * `await load((qc) => qc.fetchQuery(trpc.checkpoint.get.queryOptions({ id })))`.
 */
export async function load<T>(run: (queryClient: QueryClient) => Promise<T>): Promise<Loaded<T>> {
  try {
    return { data: await run(getQueryClient()), problem: null };
  } catch (error) {
    return { data: null, problem: describeProblem(error) };
  }
}

/** Who is signed in for this request (once per request). */
export const loadViewer = cache((): Promise<Loaded<Viewer>> => load((qc) => qc.fetchQuery(trpc.auth.whoami.queryOptions())));

/** The header proxy.ts puts the requested page in (path and query). */
const REQUESTED_PATH_HEADER = "x-safetynet-path";

async function sendToSignIn(path: string): Promise<never> {
  const hadSession = Boolean((await cookies()).get(SESSION_COOKIE)?.value);
  redirect(loginPathFor(path, hadSession ? "expired" : undefined));
}

/**
 * The root layout's check, before anything streams (a real 307): a page visited
 * without a session, or with one that expired or was ended, sends the browser to
 * /login, which brings it back afterwards. /login itself is left alone.
 */
export async function redirectSignedOutVisitor(): Promise<void> {
  const path = (await headers()).get(REQUESTED_PATH_HEADER);
  if (!path || path === "/login" || path.startsWith("/login?")) return;
  const viewer = await loadViewer();
  if (viewer.problem?.kind === "unauthenticated") await sendToSignIn(path);
}

/**
 * Who is signed in, for a page at `path` (the layout normally redirected already;
 * this covers a request that bypassed it). Any other problem is returned for the
 * page to show.
 */
export async function requireViewer(path: string): Promise<Loaded<Viewer>> {
  const viewer = await loadViewer();
  if (viewer.problem?.kind === "unauthenticated") await sendToSignIn(path);
  return viewer;
}
