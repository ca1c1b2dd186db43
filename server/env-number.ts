/**
 * A tuning number from the environment (a grace period, a size limit): a
 * non-negative finite number, or `fallback` when it is unset, empty or anything
 * else, so that a typo never turns a safety margin off.
 */
export function nonNegativeNumberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
