/**
 * The history as a CSV or JSON download: every event matching the filters, page
 * after page (the caller fetches pages; this module only encodes), so an export
 * of a million events never sits in memory.
 *
 * CSV (RFC 4180): one row per event, a header row, fields quoted when needed,
 * CRLF line ends; the columns are history.list's fields by the same names, what
 * the event was about (reason, agent, task, session, rollbackId) in columns of
 * their own, and `details` as the event's JSON. A text cell a spreadsheet would
 * read as a formula (starting with = + - @, a tab or a carriage return) gets a
 * leading `'`, so opening the file never runs what an agent wrote in a reason.
 * JSON: one document `{"exportedAt", "filters", "items": [...]}` whose items are
 * exactly history.list's (values unchanged: JSON is not read as formulas).
 */
import type { HistoryItem, HistoryPage } from "./history";
import type { HistoryListInput } from "../schemas";

export type HistoryExportFormat = "csv" | "json";

export const HISTORY_EXPORT_CONTENT_TYPES: Record<HistoryExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
};

export type HistoryExportFilters = Omit<HistoryListInput, "cursor" | "limit">;

export const HISTORY_CSV_COLUMNS = [
  "id",
  "startedAt",
  "kind",
  "outcome",
  "actor",
  "component",
  "checkpointId",
  "rollbackId",
  "reason",
  "agent",
  "task",
  "session",
  "durationMs",
  "files",
  "bytes",
  "checksum",
  "error",
  "details",
] as const satisfies readonly (keyof HistoryItem)[];

/** What a spreadsheet reads as the start of a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell that cannot run as a formula: a leading `'` when it starts like one. */
export function formulaSafe(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? formulaSafe(value) : typeof value === "object" ? formulaSafe(JSON.stringify(value)) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function historyCsvRow(item: HistoryItem): string {
  return HISTORY_CSV_COLUMNS.map((column) => csvField(item[column])).join(",") + "\r\n";
}

/** `safetynet-history-<component or all>-<YYYY-MM-DD>.csv` */
export function historyExportFileName(format: HistoryExportFormat, filters: HistoryExportFilters, now: Date): string {
  return `safetynet-history-${filters.component ?? "all"}-${now.toISOString().slice(0, 10)}.${format}`;
}

interface Pages {
  first: Pick<HistoryPage, "items" | "nextCursor">;
  next: (cursor: string) => Promise<Pick<HistoryPage, "items" | "nextCursor">>;
  filters: HistoryExportFilters;
  exportedAt: Date;
}

async function* allItems(pages: Pages): AsyncGenerator<HistoryItem[]> {
  let page = pages.first;
  for (;;) {
    yield page.items;
    if (!page.nextCursor) return;
    page = await pages.next(page.nextCursor);
  }
}

/** The export's text, a chunk per page. */
export async function* exportHistory(format: HistoryExportFormat, pages: Pages): AsyncGenerator<string> {
  if (format === "csv") {
    yield HISTORY_CSV_COLUMNS.join(",") + "\r\n";
    for await (const items of allItems(pages)) yield items.map(historyCsvRow).join("");
    return;
  }
  yield `{"exportedAt":${JSON.stringify(pages.exportedAt.toISOString())},"filters":${JSON.stringify(pages.filters)},"items":[`;
  let first = true;
  for await (const items of allItems(pages)) {
    if (items.length === 0) continue;
    yield (first ? "\n" : ",\n") + items.map((item) => JSON.stringify(item)).join(",\n");
    first = false;
  }
  yield "\n]}\n";
}
