import Form from "next/form";
import Link from "next/link";
import type { ReactNode } from "react";
import { buttonClasses } from "@/components/ui/Button";
import { historyKinds, historyOutcomes } from "@/server/schemas";
import { ROLLBACK_FAILURES, type RollbackFailure } from "@/server/audit/rollback-failure";
import type { HistoryFilter } from "@/lib/trpc/types";

const FIELD = "rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

/** A filter's label above its control; the control's id is `history-<name>`. */
function Labelled({ name, label, children }: { name: string; label: string; children: ReactNode }) {
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <label htmlFor={`history-${name}`} className="text-xs font-medium text-muted">
        {label}
      </label>
      {children}
    </div>
  );
}

/** One labelled <select> of the filter form; `value` not among `options` (a removed component) is still offered. */
function SelectFilter({ name, label, allLabel, value, options }: { name: string; label: string; allLabel: string; value: string | undefined; options: readonly string[] }) {
  return (
    <Labelled name={name} label={label}>
      <select id={`history-${name}`} name={name} defaultValue={value ?? ""} className={FIELD}>
        <option value="">{allLabel}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
        {value && !options.includes(value) ? <option value={value}>{value} (removed)</option> : null}
      </select>
    </Labelled>
  );
}

function DateFilter({ name, label, value }: { name: string; label: string; value: string | undefined }) {
  return (
    <Labelled name={name} label={label}>
      <input id={`history-${name}`} name={name} type="date" defaultValue={value ?? ""} className={FIELD} />
    </Labelled>
  );
}

function TextFilter({ name, label, value, placeholder }: { name: string; label: string; value: string | undefined; placeholder: string }) {
  return (
    <Labelled name={name} label={label}>
      <input id={`history-${name}`} name={name} defaultValue={value ?? ""} placeholder={placeholder} maxLength={200} className={`${FIELD} font-mono sm:w-40`} />
    </Labelled>
  );
}

/** The query string of the history page for `filter` (also what the export route takes, with the format). */
export function historyQuery(filter: HistoryFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ["component", "kind", "outcome", "failure", "actor", "agent", "task", "since", "until"] as const) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  return params;
}

/** The history filtered to failed rollbacks that ran or were refused before any change, of one component or all. */
export function failedRollbacksHref(failure: RollbackFailure, component?: string): string {
  return `/history?${historyQuery({ component, kind: "rollback", outcome: "failed", failure }).toString()}`;
}

/**
 * Filters for the history (component, kind, outcome, failed rollbacks that ran or
 * were refused before any change, actor — any part of it —, agent and task —
 * exactly as the checkpoint's caller named them —, a date range in days of the
 * zone times are shown in), kept in the URL so a filtered view can be shared; and
 * the download of everything they match as CSV or JSON.
 */
export function HistoryFilters({ filter, days, zone, components }: { filter: HistoryFilter; days: { from?: string; to?: string }; zone: string; components: string[] }) {
  const zoneName = zone.replaceAll("_", " ");
  const exportQuery = historyQuery(filter).toString();
  const exportHref = (format: "csv" | "json") => `/api/history/export?format=${format}${exportQuery ? `&${exportQuery}` : ""}`;
  return (
    <div className="space-y-3">
      {/* Keyed by the filter: the fields are uncontrolled, so a new URL (e.g. "Clear") must remount them. */}
      <Form
        key={JSON.stringify([filter, days])}
        action="/history"
        className="grid grid-cols-2 items-end gap-3 rounded-lg border border-border bg-surface p-4 sm:flex sm:flex-wrap"
        aria-label="Filter the history"
      >
        <SelectFilter name="component" label="Component" allLabel="All components" value={filter.component} options={components} />
        <SelectFilter name="kind" label="Kind" allLabel="All kinds" value={filter.kind} options={historyKinds} />
        <SelectFilter name="outcome" label="Outcome" allLabel="Any outcome" value={filter.outcome} options={historyOutcomes} />
        <SelectFilter name="failure" label="Failed rollbacks" allLabel="Ran or refused" value={filter.failure} options={ROLLBACK_FAILURES} />
        <div className="flex min-w-0 flex-col gap-1">
          <label htmlFor="history-actor" className="text-xs font-medium text-muted">
            Actor (any part)
          </label>
          <input id="history-actor" name="actor" defaultValue={filter.actor ?? ""} placeholder="e.g. build-bot" className={`${FIELD} font-mono sm:w-40`} />
        </div>
        <TextFilter name="agent" label="Agent (exact)" value={filter.agent} placeholder="e.g. claude-code" />
        <TextFilter name="task" label="Task / session (exact)" value={filter.task} placeholder="e.g. TASK-42" />
        <DateFilter name="from" label={`From (${zoneName} day)`} value={days.from} />
        <DateFilter name="to" label={`To (${zoneName} day, inclusive)`} value={days.to} />
        <div className="col-span-2 flex items-center gap-3">
          <button type="submit" className={buttonClasses("primary", "py-1.5")}>
            Apply
          </button>
          <Link href="/history" className="text-sm text-muted hover:text-foreground">
            Clear
          </Link>
        </div>
      </Form>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="text-muted">Download every matching event (all pages):</span>
        <a href={exportHref("csv")} download className={buttonClasses("secondary", "py-1 text-xs")} data-testid="export-csv">
          CSV
        </a>
        <a href={exportHref("json")} download className={buttonClasses("secondary", "py-1 text-xs")} data-testid="export-json">
          JSON
        </a>
      </div>
    </div>
  );
}
