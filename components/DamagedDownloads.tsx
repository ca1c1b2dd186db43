import { buttonClasses } from "@/components/ui/Button";
import { formatCount } from "@/lib/format";
import type { CheckpointDetail } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

/** Files named in the refusal; the damage panel above lists them all. */
const NAMED = 5;

function archiveHref(id: string, format: "tar.gz" | "zip", intact: boolean): string {
  return `/api/checkpoints/${encodeURIComponent(id)}/archive?format=${format}${intact ? "&intact=1" : ""}`;
}

/**
 * Downloads of a damaged checkpoint: the whole archive is refused (the server would
 * only break it off at the first damaged file), and an archive of its intact files
 * is offered instead, labelled partial. A damaged manifest leaves nothing to offer.
 */
export function DamagedDownloads({ checkpoint }: { checkpoint: Pick<CheckpointDetail, "id" | "damagedFiles"> }) {
  const files = checkpoint.damagedFiles.filter((f) => f.path !== null && f.path !== undefined);
  const manifestDamaged = checkpoint.damagedFiles.some((f) => f.path === null || f.path === undefined);
  const named = files
    .slice(0, NAMED)
    .map((f) => `${displayPath(f.path as string)} (${f.state})`)
    .join(", ");
  return (
    <div className="w-full space-y-2 rounded-md border border-bad/40 bg-bad/5 px-3 py-2 text-xs sm:w-auto sm:max-w-md" data-testid="download-refused">
      <p>
        <strong className="text-bad">Full download refused:</strong>{" "}
        {manifestDamaged
          ? "the checkpoint's manifest itself is damaged, so its files cannot be listed or archived."
          : `${formatCount(files.length)} stored file${files.length === 1 ? " is" : "s are"} damaged: ${named}${files.length > NAMED ? ` and ${formatCount(files.length - NAMED)} more` : ""}. A complete archive cannot be made.`}
      </p>
      {manifestDamaged ? null : (
        <p className="flex flex-wrap items-center gap-2">
          <span className="text-muted">Intact files only (partial; the archive&apos;s notes list what is left out):</span>
          <a href={archiveHref(checkpoint.id, "tar.gz", true)} download className={buttonClasses("secondary", "py-1 text-xs")} data-testid="download-intact-tar">
            partial .tar.gz
          </a>
          <a href={archiveHref(checkpoint.id, "zip", true)} download className={buttonClasses("secondary", "py-1 text-xs")} data-testid="download-intact-zip">
            partial .zip
          </a>
        </p>
      )}
    </div>
  );
}
