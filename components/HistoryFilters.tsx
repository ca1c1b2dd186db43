import Form from "next/form";
import Link from "next/link";
import { historyKinds, historyOutcomes } from "@/server/schemas";
import type { HistoryFilter } from "@/lib/trpc/types";

const FIELD = "rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

/** One labelled <select> of the filter form; `value` not among `options` (a removed component) is still offered. */
function SelectFilter({ name, label, allLabel, value, options }: { name: string; label: string; allLabel: string; value: string | undefined; options: readonly string[] }) {
  const id = `history-${name}`;
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium text-muted">
        {label}
      </label>
      <select id={id} name={name} defaultValue={value ?? ""} className={FIELD}>
        <option value="">{allLabel}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
        {value && !options.includes(value) ? <option value={value}>{value} (removed)</option> : null}
      </select>
    </div>
  );
}

/** Filters for the history (component, kind, outcome, actor), kept in the URL so a filtered view can be shared. */
export function HistoryFilters({ filter, components }: { filter: HistoryFilter; components: string[] }) {
  return (
    // Keyed by the filter: the fields are uncontrolled, so a new URL (e.g. "Clear") must remount them.
    <Form key={JSON.stringify(filter)} action="/history" className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-surface p-4" aria-label="Filter the history">
      <SelectFilter name="component" label="Component" allLabel="All components" value={filter.component} options={components} />
      <SelectFilter name="kind" label="Kind" allLabel="All kinds" value={filter.kind} options={historyKinds} />
      <SelectFilter name="outcome" label="Outcome" allLabel="Any outcome" value={filter.outcome} options={historyOutcomes} />
      <div className="flex flex-col gap-1">
        <label htmlFor="history-actor" className="text-xs font-medium text-muted">
          Actor
        </label>
        <input id="history-actor" name="actor" defaultValue={filter.actor ?? ""} placeholder="e.g. token:admin" className={`${FIELD} w-44 font-mono`} />
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" className="rounded-md bg-accent px-3.5 py-1.5 text-sm font-medium text-background hover:opacity-90">
          Apply
        </button>
        <Link href="/history" className="text-sm text-muted hover:text-foreground">
          Clear
        </Link>
      </div>
    </Form>
  );
}
