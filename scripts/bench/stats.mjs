// Summaries of repeated measurements.

export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when there are none. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const maxOf = (values) => (values.length === 0 ? null : Math.max(...values));

/** min and max of each series: with a busy machine the spread says how far to trust a median. */
export function range(values) {
  return values.length === 0 ? null : { min: Math.min(...values), max: Math.max(...values) };
}

export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

/** Applies `fn` to every leaf series of {tool: {op: values[]}}. */
export function mapSeries(samples, fn) {
  return Object.fromEntries(Object.entries(samples).map(([tool, ops]) => [tool, Object.fromEntries(Object.entries(ops).map(([op, values]) => [op, fn(values)]))]));
}
