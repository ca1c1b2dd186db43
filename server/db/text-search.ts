/**
 * "Contains" searches that mean what they say. Prisma's `contains` is SQL LIKE,
 * which reads `_` and `%` in the needle as wildcards and escapes neither on
 * SQLite (which has no default escape character): "task_7" would also find
 * "task-7" and "taskX7". A needle holding either is therefore checked again,
 * exactly, on the rows LIKE returns, and more rows are read until the page is
 * full. Other needles are exact already and cost one query, as before.
 */

/** Rows read per query while a page is filled through the exact check. */
const SCAN_BATCH = 500;

/** Whether SQL LIKE may have matched more than `needle` as plain text. */
export function needsExactCheck(needle: string | undefined): needle is string {
  return needle !== undefined && /[%_]/.test(needle);
}

/** Case-insensitive "contains", like the LIKE it checks: true when any of `texts` holds `needle`. */
export function anyContains(texts: readonly (string | null | undefined)[], needle: string): boolean {
  const lower = needle.toLowerCase();
  return texts.some((text) => typeof text === "string" && text.toLowerCase().includes(lower));
}

/**
 * Reads up to `want` rows in the query's order, keeping only those `matches`
 * accepts when `exact` (else every row, in one query of `want`). `read(after, take)`
 * returns the next `take` rows after row `after` (from the start when undefined).
 */
export async function readMatching<Row>(options: {
  want: number;
  exact: boolean;
  read: (after: Row | undefined, take: number) => Promise<Row[]>;
  matches: (row: Row) => boolean;
}): Promise<Row[]> {
  const { want, exact, read, matches } = options;
  const batch = exact ? Math.max(SCAN_BATCH, want) : want;
  const found: Row[] = [];
  let last: Row | undefined;
  for (;;) {
    const rows = await read(last, batch);
    for (const row of rows) {
      last = row;
      if (exact && !matches(row)) continue;
      found.push(row);
      if (found.length >= want) return found;
    }
    if (rows.length < batch) return found;
  }
}
