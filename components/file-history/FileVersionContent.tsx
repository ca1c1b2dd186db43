"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { CopyableId } from "@/components/ui/CopyButton";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatMode } from "@/lib/format";
import type { RouterOutputs } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

type FileContent = RouterOutputs["file"]["content"];

/** Lines rendered at most: the rest of a long file is counted, not drawn. */
const SHOWN_LINES = 5_000;

function TextWithLineNumbers({ text }: { text: string }) {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const shown = lines.slice(0, SHOWN_LINES);
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse font-mono text-xs leading-5" data-testid="file-content-text">
        <tbody>
          {shown.map((line, i) => (
            <tr key={i}>
              <td className="w-10 select-none border-r border-border px-2 text-right align-top text-muted">{i + 1}</td>
              <td className="whitespace-pre-wrap break-all px-3 md:whitespace-pre md:break-normal">{line}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {lines.length > SHOWN_LINES ? <p className="border-t border-border px-3 py-2 text-xs text-muted">… and {formatCount(lines.length - SHOWN_LINES)} more lines not drawn.</p> : null}
    </div>
  );
}

function ContentBody({ content }: { content: FileContent }) {
  if (content.unstable) return <p className="px-3 py-3 text-sm text-muted">The file kept changing while this checkpoint was taken: it holds no content for it.</p>;
  if (content.kind === "dir") return <p className="px-3 py-3 text-sm text-muted">A folder in this version: its files have histories of their own.</p>;
  if (content.kind === "symlink") {
    return (
      <p className="px-3 py-3 text-sm">
        A symbolic link to <span className="break-all font-mono">{content.linkTarget}</span>
      </p>
    );
  }
  if (content.binary || content.text === null) {
    return (
      <p className="px-3 py-3 text-sm text-muted" data-testid="file-content-binary">
        Binary, {formatBytes(content.size)} ({formatCount(content.size)} bytes){content.sparse ? ", sparse" : ""}: not shown as text.
      </p>
    );
  }
  if (content.text === "") return <p className="px-3 py-3 text-sm text-muted">Empty file.</p>;
  return (
    <>
      <TextWithLineNumbers text={content.text} />
      {content.truncated ? <p className="border-t border-border px-3 py-2 text-xs text-muted">Only the first 1 MiB of {formatBytes(content.size)} is shown.</p> : null}
    </>
  );
}

/** One version of a path: its facts and its content (text with line numbers, or what it is when not text). */
export function FileVersionContent({ checkpointId, path }: { checkpointId: string; path: string }) {
  const trpc = useTRPC();
  const content = useQuery(trpc.file.content.queryOptions({ checkpointId, path }, { staleTime: Infinity }));
  return (
    <section aria-label={`Content of ${displayPath(path)} at ${checkpointId}`} className="overflow-hidden rounded-lg border border-border bg-surface" data-testid="file-version-content" data-checkpoint={checkpointId}>
      {content.isPending ? (
        <div className="p-3">
          <LoadingBlock label="Reading this version from the store" rows={3} />
        </div>
      ) : content.isError ? (
        <div className="p-3">
          <ProblemNotice problem={describeProblem(content.error)} onRetry={() => void content.refetch()} />
        </div>
      ) : (
        <>
          <div className="flex flex-wrap items-center gap-x-4 gap-y-1 border-b border-border bg-background px-3 py-2 text-xs text-muted">
            <span>{content.data.kind}</span>
            {content.data.kind === "file" ? <span data-testid="file-content-size">{formatBytes(content.data.size)}</span> : null}
            <span className="font-mono">{formatMode(content.data.mode)}</span>
            {content.data.sha256 ? <CopyableId value={content.data.sha256} label="Copy sha256" short /> : null}
            {content.data.hardlinkTo !== null ? <span>another name of {displayPath(content.data.hardlinkTo)}</span> : null}
          </div>
          <ContentBody content={content.data} />
        </>
      )}
    </section>
  );
}
