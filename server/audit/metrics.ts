/**
 * A seam between the core and the metrics exporter: the core reports every audit
 * record here; the server installs an observer (server/audit/prometheus.ts) that
 * feeds prom-client. The CLI installs none, so it never loads prom-client.
 */
import type { AuditRecord } from "./history";

type AuditObserver = (record: AuditRecord) => void;
let observer: AuditObserver | null = null;

export function setAuditObserver(next: AuditObserver | null): void {
  observer = next;
}

export function observeAuditEvent(record: AuditRecord): void {
  try {
    observer?.(record);
  } catch {
    // Metrics must never break the operation they describe.
  }
}
