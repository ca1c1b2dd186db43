"use client";

import { forwardRef, useImperativeHandle, useRef } from "react";

const SHORTCUTS: [string, string][] = [
  ["j", "next item on the timeline (loads older ones at the end)"],
  ["k", "previous item"],
  ["Enter", "open the focused checkpoint"],
  ["Tab", "the focused item's links and buttons, then the next item"],
  ["/", "filter the timeline"],
  ["?", "this list"],
];

export interface ShortcutsHelpHandle {
  open(): void;
}

/** The timeline's keyboard shortcuts, in a small dialog (`?` or the button opens it, Escape closes it). */
export const KeyboardShortcutsHelp = forwardRef<ShortcutsHelpHandle>(function KeyboardShortcutsHelp(_props, ref) {
  const dialog = useRef<HTMLDialogElement>(null);
  useImperativeHandle(ref, () => ({
    open: () => {
      if (dialog.current && !dialog.current.open) dialog.current.showModal();
    },
  }));
  return (
    <>
      <button
        type="button"
        onClick={() => dialog.current?.showModal()}
        className="inline-flex items-center gap-1.5 py-1.5 text-xs text-muted hover:text-foreground"
        aria-haspopup="dialog"
      >
        <kbd className="rounded border border-border px-1 font-mono">?</kbd> Keyboard shortcuts
      </button>
      <dialog
        ref={dialog}
        aria-labelledby="shortcuts-title"
        className="m-auto w-[min(26rem,calc(100vw-2rem))] rounded-lg border border-border bg-surface p-0 text-foreground shadow-xl backdrop:bg-black/40"
        onClick={(event) => {
          // A click on the backdrop (the dialog element itself, outside its content) closes it.
          if (event.target === event.currentTarget) event.currentTarget.close();
        }}
      >
        <div className="p-4">
        <h2 id="shortcuts-title" className="mb-3 text-sm font-semibold">
          Keyboard shortcuts
        </h2>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
          {SHORTCUTS.map(([key, what]) => (
            <div key={key} className="contents">
              <dt>
                <kbd className="rounded border border-border px-1.5 font-mono text-xs">{key}</kbd>
              </dt>
              <dd className="text-muted">{what}</dd>
            </div>
          ))}
        </dl>
        <p className="mt-3 text-xs text-muted">Shortcuts are off while you type in a field.</p>
        <form method="dialog" className="mt-4 text-right">
          <button type="submit" className="rounded-md border border-border px-3 py-1 text-sm hover:bg-background">
            Close
          </button>
        </form>
        </div>
      </dialog>
    </>
  );
});
