"use client";

/**
 * What the whole page must know about the server, whichever query found it out:
 * it cannot be reached (one banner with Retry instead of an error per panel), or
 * the session ended (the token was revoked or the session expired: the header
 * says so and offers to sign in again). A tiny store for useSyncExternalStore,
 * fed by the QueryClient's caches (components/providers/TRPCProvider.tsx).
 */
import { useSyncExternalStore } from "react";

export interface ConnectionState {
  /** The last request could not reach the server. */
  unreachable: boolean;
  /** A request was refused with 401: the session is over. */
  sessionEnded: boolean;
}

const SERVER_STATE: ConnectionState = { unreachable: false, sessionEnded: false };
let state: ConnectionState = SERVER_STATE;
const listeners = new Set<() => void>();

function set(next: Partial<ConnectionState>): void {
  const merged = { ...state, ...next };
  if (merged.unreachable === state.unreachable && merged.sessionEnded === state.sessionEnded) return;
  state = merged;
  for (const listener of listeners) listener();
}

export const connectionState = {
  reportUnreachable: () => set({ unreachable: true }),
  reportReachable: () => set({ unreachable: false }),
  reportSessionEnded: () => set({ sessionEnded: true, unreachable: false }),
};

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    subscribe,
    () => state,
    () => SERVER_STATE,
  );
}
