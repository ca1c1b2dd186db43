"use client";

/**
 * The current time for relative labels ("3 min ago", "expires in 9 min"),
 * ticking every `intervalMs`. It is null during server rendering and hydration,
 * so the server's HTML and the browser's first render always agree.
 */
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
let now = 0;
let timer: ReturnType<typeof setInterval> | null = null;

const TICK_MS = 1000;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

function getSnapshot(): number {
  // First read before any subscription: start from the real time, then stay stable until the next tick.
  if (now === 0) now = Date.now();
  return now;
}
const getServerSnapshot = () => null;

/** Milliseconds since the epoch (updated once a second), or null before hydration. */
export function useNow(): number | null {
  return useSyncExternalStore<number | null>(subscribe, getSnapshot, getServerSnapshot);
}
