/**
 * Who holds a lock: written beside the lock when it is taken, so a refusal can
 * name the holder (pid, host, the process's start time, the operation and since
 * when). Informational only: whether the lock is held is the kernel's answer,
 * never this file's, so a stale file of a dead holder cannot block anyone.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { randomBytes } from "node:crypto";

export interface LockHolder {
  pid: number;
  host: string;
  /** When the holding process started (ISO): with pid and host it identifies the process even after pid reuse. */
  processStartedAt: string;
  /** What it is doing: "rollback", "checkpoint create", ... */
  operation: string;
  /** When it took the lock (ISO). */
  since: string;
}

export function currentHolder(operation: string): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    processStartedAt: new Date(Math.round(performance.timeOrigin)).toISOString(),
    operation,
    since: new Date().toISOString(),
  };
}

/** Writes the holder file (temp + rename: a reader sees the old or the new one, never a torn one). */
export function writeHolder(file: string, holder: LockHolder): void {
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, JSON.stringify(holder), { mode: 0o600 });
  renameSync(tmp, file);
}

export function clearHolder(file: string): void {
  rmSync(file, { force: true });
}

export function readHolder(file: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || typeof parsed.operation !== "string" || typeof parsed.since !== "string") return null;
    return {
      pid: parsed.pid,
      host: String(parsed.host ?? ""),
      processStartedAt: String(parsed.processStartedAt ?? ""),
      operation: parsed.operation,
      since: parsed.since,
    };
  } catch {
    return null;
  }
}

/** "rollback (pid 4242 on build-1, since 2026-11-29T23:40:01.000Z)" */
export function describeHolder(holder: LockHolder): string {
  return `${holder.operation} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}
