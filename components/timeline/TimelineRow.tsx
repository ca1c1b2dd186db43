"use client";

import { useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

/** What a browser puts in the tab order on its own (and what a row takes out of it). */
const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
const SAVED = "rowTabindex";

/**
 * One line of the timeline as one tab stop: the row itself is focusable and the
 * links and buttons inside it leave the tab order until focus is in the row (the
 * "one stop per item" pattern of feeds and inboxes). Tab from a focused row walks
 * its controls, then goes on to the next row; Enter on the row opens its first
 * link (a checkpoint card: the checkpoint page); `j`/`k` move between rows.
 * Clicks reach every control as before.
 */
export function TimelineRow({ children, checkpointId, className = "" }: { children: ReactNode; checkpointId?: string; className?: string }) {
  const ref = useRef<HTMLLIElement>(null);
  const [active, setActive] = useState(false);

  // After every render, so controls that appear later (an opened run, a result) follow the row's state.
  useLayoutEffect(() => {
    const row = ref.current;
    if (!row) return;
    for (const control of row.querySelectorAll<HTMLElement>(FOCUSABLE)) {
      if (control.closest("[data-timeline-row]") !== row) continue;
      const saved = control.dataset[SAVED];
      if (active) {
        if (saved === undefined) continue;
        if (saved === "") control.removeAttribute("tabindex");
        else control.setAttribute("tabindex", saved);
        delete control.dataset[SAVED];
      } else if (saved === undefined) {
        control.dataset[SAVED] = control.getAttribute("tabindex") ?? "";
        control.tabIndex = -1;
      }
    }
  });

  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>) => {
    if (event.target !== event.currentTarget || event.key !== "Enter") return;
    const primary = event.currentTarget.querySelector<HTMLElement>("[data-row-primary], a[href], button");
    if (primary) {
      event.preventDefault();
      primary.click();
    }
  };

  return (
    <li
      ref={ref}
      tabIndex={0}
      data-timeline-row=""
      data-row-checkpoint-id={checkpointId}
      onFocus={() => setActive(true)}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setActive(false);
      }}
      onKeyDown={onKeyDown}
      // Outlined on any focus, not only keyboard focus: a jump focuses its row, and that row must stand out.
      className={`relative scroll-mt-16 rounded-lg outline-offset-4 focus:outline-2 focus:outline-accent ${className}`}
    >
      {children}
    </li>
  );
}
