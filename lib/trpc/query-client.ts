/**
 * The QueryClient factory shared by the browser provider and the server-side
 * prefetch (one per request on the server, one per tab in the browser).
 * Plain JSON on the wire, so no (de)serializers are needed for hydration.
 */
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { describeProblem, isTransient, type ApiProblem } from "./api-problem";

export interface ProblemObserver {
  /** Any query or mutation failed (the browser uses it to spot an unreachable server or an ended session). */
  onProblem(problem: ApiProblem): void;
  /** A query answered: the server is reachable again. */
  onAnswer(): void;
}

export function makeQueryClient(observer?: ProblemObserver): QueryClient {
  return new QueryClient({
    queryCache: observer
      ? new QueryCache({ onError: (error) => observer.onProblem(describeProblem(error)), onSuccess: () => observer.onAnswer() })
      : undefined,
    mutationCache: observer ? new MutationCache({ onError: (error) => observer.onProblem(describeProblem(error)), onSuccess: () => observer.onAnswer() }) : undefined,
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
