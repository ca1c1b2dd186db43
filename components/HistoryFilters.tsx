import Form from "next/form";
import Link from "next/link";
import { historyKinds, historyOutcomes } from "@/server/schemas";
import type { HistoryFilter } from "@/lib/trpc/types";

const FIELD = "rounded-md border border-border bg-background px-2.5 py-1.5 text-sm";

/** Filters for the history (component, kind, outcome, actor), kept in the URL so a filtered view can be shared. */
export function HistoryFilters({ filter, components }: { filter: HistoryFilter; components: string[] }) {
  return (
    // Keyed by the filter: the fields are uncontrolled, so a new URL (e.g. "Clear") must remount them.
    <Form key={JSON.stringify(filter)} action="/history" className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-surface p-4" aria-label="Filter the history">
      <div className="flex flex-col gap-1">
        <label htmlFor="history-component" className="text-xs font-medium text-muted">
          Component
        </label>
        <select id="history-component" name="component" defaultValue={filter.component ?? ""} className={FIELD}>
          <option value="">All components</option>
          {components.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
          {filter.component && !components.includes(filter.component) ? <option value={filter.component}>{filter.component} (removed)</option> : null}
        </select>
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor="history-kind" className="text-xs font-medium text-muted">
          Kind
        </label>
        <select id="history-kind" name="kind" defaultValue={filter.kind ?? ""} className={FIELD}>
          <option value="">All kinds</option>
          {historyKinds.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor="history-outcome" className="text-xs font-medium text-muted">
          Outcome
        </label>
        <select id="history-outcome" name="outcome" defaultValue={filter.outcome ?? ""} className={FIELD}>
          <option value="">Any outcome</option>
          {historyOutcomes.map((outcome) => (
            <option key={outcome} value={outcome}>
              {outcome}
            </option>
          ))}
        </select>
      </div>
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
