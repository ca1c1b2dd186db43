"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

/** Copies through the Clipboard API, or a hidden textarea where that API is unavailable (plain http on another host). */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy refused");
  } finally {
    area.remove();
  }
}

/** A small button that copies `value`; says "Copied" for a moment (and announces it). */
export function CopyButton({ value, label, className = "" }: { value: string; label: string; className?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 1500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      onClick={() => copyText(value).then(() => setState("copied"), () => setState("failed"))}
      aria-label={label}
      title={label}
      data-copy-value={value}
      className={`inline-flex shrink-0 items-center gap-1 rounded border border-border bg-surface px-1.5 py-0.5 text-xs text-muted hover:text-foreground ${className}`}
    >
      <svg viewBox="0 0 16 16" aria-hidden="true" className="h-3 w-3 fill-current">
        <path d="M5 1.5A1.5 1.5 0 0 1 6.5 0h6A1.5 1.5 0 0 1 14 1.5v8a1.5 1.5 0 0 1-1.5 1.5h-6A1.5 1.5 0 0 1 5 9.5zM6.5 1a.5.5 0 0 0-.5.5v8a.5.5 0 0 0 .5.5h6a.5.5 0 0 0 .5-.5v-8a.5.5 0 0 0-.5-.5zM2 5.5A1.5 1.5 0 0 1 3.5 4H4v1h-.5a.5.5 0 0 0-.5.5v8a.5.5 0 0 0 .5.5h6a.5.5 0 0 0 .5-.5V14h1v.5A1.5 1.5 0 0 1 9.5 16h-6A1.5 1.5 0 0 1 2 14.5z" />
      </svg>
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}</span>
    </button>
  );
}

/** A value in monospace with its copy button: checkpoint and rollback ids, sha256s. */
export function CopyableId({ value, label, className = "", short = false }: { value: string; label: string; className?: string; short?: boolean }) {
  return (
    <span className={`inline-flex max-w-full items-center gap-1.5 ${className}`}>
      <code className="min-w-0 break-all font-mono text-xs" title={value}>
        {short ? value.slice(0, 12) : value}
      </code>
      <CopyButton value={value} label={label} />
    </span>
  );
}

/** A checkpoint id that links to its page, with its copy button (cards, session rows). */
export function CheckpointIdLink({ id }: { id: string }) {
  return (
    <span className="inline-flex items-center gap-1">
      <Link href={`/checkpoints/${id}`} className="font-mono text-xs text-muted hover:text-accent hover:underline">
        {id}
      </Link>
      <CopyButton value={id} label={`Copy checkpoint id ${id}`} />
    </span>
  );
}
