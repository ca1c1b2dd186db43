/**
 * Runs `worker` over `items` with at most `limit` in flight; results keep input order.
 * On the first failure no further item is started, the ones in flight are awaited,
 * and then the first error is thrown: nothing keeps running (reading the workspace,
 * writing the store) after the caller has failed and released its locks.
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await worker(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure) throw failure.error;
  return results;
}
