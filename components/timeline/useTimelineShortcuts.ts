"use client";

import { useEffect, useRef, type RefObject } from "react";

/** A key typed into a field, or pressed with a modifier, is the browser's, never a shortcut. */
function belongsToSomethingElse(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return true;
  const target = event.target instanceof HTMLElement ? event.target : null;
  if (target && (target.isContentEditable || target.closest("input, textarea, select, [contenteditable='true']"))) return true;
  // A dialog (the rollback confirmation, this help) owns the keyboard while it is open.
  return document.querySelector("[role='alertdialog'], [role='dialog'][aria-modal='true'], dialog[open]") !== null;
}

function rowsOf(container: HTMLElement | null): HTMLElement[] {
  return container ? [...container.querySelectorAll<HTMLElement>("[data-timeline-row]")] : [];
}

function focusRow(row: HTMLElement | undefined): void {
  if (!row) return;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

/**
 * The timeline's keyboard: `j`/`k` focus the next/previous row (at the last row,
 * the next page is loaded and its first row focused), `/` focuses the filter, `?`
 * opens the list of shortcuts.
 */
export function useTimelineShortcuts({
  container,
  rowCount,
  loadMore,
  focusFilter,
  openHelp,
}: {
  container: RefObject<HTMLElement | null>;
  /** Rows rendered now: when it grows after `loadMore`, the row waited for gets focus. */
  rowCount: number;
  /** Loads the next page; false when there is none. */
  loadMore: () => boolean;
  focusFilter: () => void;
  openHelp: () => void;
}): void {
  const waitingFor = useRef<number | null>(null);
  const latest = useRef({ loadMore, focusFilter, openHelp });
  useEffect(() => {
    latest.current = { loadMore, focusFilter, openHelp };
  });

  useEffect(() => {
    const wanted = waitingFor.current;
    if (wanted === null) return;
    const rows = rowsOf(container.current);
    if (rows.length > wanted) {
      waitingFor.current = null;
      focusRow(rows[wanted]);
    }
  }, [rowCount, container]);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (belongsToSomethingElse(event)) return;
      if (event.key === "j" || event.key === "k") {
        event.preventDefault();
        const rows = rowsOf(container.current);
        if (rows.length === 0) return;
        const current = rows.findIndex((row) => row.contains(document.activeElement));
        if (current === -1) return focusRow(rows[0]);
        const next = current + (event.key === "j" ? 1 : -1);
        if (next < 0) return;
        if (next < rows.length) return focusRow(rows[next]);
        if (latest.current.loadMore()) waitingFor.current = next;
      } else if (event.key === "/") {
        event.preventDefault();
        latest.current.focusFilter();
      } else if (event.key === "?") {
        event.preventDefault();
        latest.current.openHelp();
      }
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [container]);
}
