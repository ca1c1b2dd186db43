import type { ReactNode } from "react";
import { NewBytes } from "@/components/NewBytes";
import { CopyableId } from "@/components/ui/CopyButton";
import { Time } from "@/components/ui/Time";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { CheckpointDetail } from "@/lib/trpc/types";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-muted">{label}</dt>
      <dd className="mt-0.5 break-words text-sm">{children}</dd>
    </div>
  );
}

function text(meta: Record<string, unknown>, key: string): string | null {
  const value = meta[key];
  return typeof value === "string" && value ? value : typeof value === "number" ? String(value) : null;
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? "" : "s"}`;
}

interface GitInfo {
  head?: string | null;
  branch?: string | null;
  dirty?: boolean | null;
}

/** Who took the checkpoint, when, why, how big, until when it is kept, and the git state it was taken on. */
export function CheckpointFacts({ checkpoint }: { checkpoint: CheckpointDetail }) {
  const git = (checkpoint.callerMeta.git ?? null) as GitInfo | null;
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-4 rounded-lg border border-border bg-surface p-4 sm:grid-cols-2 md:grid-cols-4">
      <Fact label="Taken">
        <Time iso={checkpoint.createdAt} />
      </Fact>
      <Fact label="Actor">{checkpoint.actor}</Fact>
      <Fact label="Agent">{text(checkpoint.callerMeta, "agent") ?? <span className="text-muted">—</span>}</Fact>
      <Fact label="Task">{text(checkpoint.callerMeta, "task") ?? <span className="text-muted">—</span>}</Fact>
      <Fact label="Files">
        {plural(checkpoint.files, "file")} · {plural(checkpoint.dirs, "dir")} · {plural(checkpoint.symlinks, "symlink")}
      </Fact>
      <Fact label="Size">
        {formatBytes(checkpoint.bytes)}{" "}
        <span className="text-muted">
          (<NewBytes bytes={checkpoint.bytes} newBytes={checkpoint.newBytes} manifestBytes={checkpoint.manifestBytes} />)
        </span>
      </Fact>
      <Fact label="Took">{formatDuration(checkpoint.durationMs)}</Fact>
      <Fact label="Kept until">
        {checkpoint.pinned ? "pinned: kept until unpinned" : <Time iso={checkpoint.retentionUntil} mode="absolute" />}
      </Fact>
      <Fact label="Git">
        {git && (git.head || git.branch) ? (
          <span className="font-mono text-xs">
            {git.branch ?? "detached"} @ {git.head ? git.head.slice(0, 10) : "?"}
            {git.dirty ? <span className="text-warn"> (dirty)</span> : null}
            {git.dirty === null ? <span className="text-muted" title="A large repository: git status is not run before each checkpoint"> (changes not checked)</span> : null}
          </span>
        ) : (
          <span className="text-muted">not a git repository</span>
        )}
      </Fact>
      <Fact label="Manifest sha256">
        <CopyableId value={checkpoint.manifestSha256} label="Copy the manifest sha256" />
      </Fact>
      {checkpoint.expiredReason ? <Fact label="Expired because">{checkpoint.expiredReason}</Fact> : null}
    </dl>
  );
}
