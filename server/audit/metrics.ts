/**
 * A seam between the core and the metrics exporter: the core reports every audit
 * record here; the server installs an observer (server/audit/prometheus.ts) that
 * feeds prom-client. The CLI installs none, so it never loads prom-client.
 *
 * The observer lives on globalThis: a Next build may bundle this module more than
 * once (instrumentation and each route), and all copies must see the same observer.
 */
import type { AuditRecord } from "./history";

type AuditObserver = (record: AuditRecord) => void;

const SLOT = Symbol.for("safetynet.auditObserver");
type ObserverSlot = { [SLOT]?: AuditObserver | null };

export function setAuditObserver(next: AuditObserver | null): void {
  (globalThis as ObserverSlot)[SLOT] = next;
}

export function observeAuditEvent(record: AuditRecord): void {
  try {
    (globalThis as ObserverSlot)[SLOT]?.(record);
  } catch {
    // Metrics must never break the operation they describe.
  }
}
