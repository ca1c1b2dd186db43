/**
 * The QueryClient factory shared by the browser provider and the server-side
 * prefetch (one per request on the server, one per tab in the browser).
 * Plain JSON on the wire, so no (de)serializers are needed for hydration.
 */
import { QueryClient } from "@tanstack/react-query";
import { describeProblem, isTransient } from "./api-problem";

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Data prefetched on the server is fresh when the page hydrates.
        staleTime: 30_000,
        // 4xx answers are final (sign in, role, not found); only retry transient failures.
        retry: (failureCount, error) => failureCount < 2 && isTransient(describeProblem(error)),
      },
    },
  });
}
