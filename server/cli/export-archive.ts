/**
 * `checkpoint export`: the archive of a checkpoint written to a file, from the data
 * directory (local mode) or downloaded from the server's archive route (remote
 * mode). Either way the file appears only once the whole archive arrived (owner-only:
 * export-file.ts); a damaged object found while streaming leaves nothing behind and exits 4.
 */
import type { ArchiveFormat, CheckpointExportInput } from "../schemas";
import { IntegrityError, OperationFailedError, SafetyNetError } from "../errors";
import { writeExportFile } from "./export-file";
import type { CliContext } from "./context";
import type { ArchiveNote } from "../checkpoints/zip-names";

export interface ExportReport {
  checkpointId: string;
  /** null in remote mode when the server did not say (the archive carries it in its folder name). */
  component: string | null;
  format: ArchiveFormat;
  file: string;
  archiveBytes: number;
  archiveSha256: string;
  /** Entries in the archive (local mode; null in remote mode). */
  entries: number | null;
  /** Entries the archive could not hold as they are: names a zip cannot hold (escaped), files without content (left out). */
  warnings: ArchiveNote[];
  /** How many (the archive's `.safetynet-export-notes.json` lists them all; a remote download's headers carry the first ones). */
  noteCount: number;
  durationMs: number;
}

export async function exportCheckpointArchive(ctx: CliContext, input: CheckpointExportInput, file: string): Promise<ExportReport> {
  const t0 = performance.now();
  if (ctx.remote) {
    const { RemoteClient } = await import("../mcp/remote-client");
    const client = new RemoteClient(ctx.remote);
    const download = await client.downloadArchive(input.id, input.format, { intact: input.intact });
    let written;
    try {
      written = await writeExportFile(file, download.stream);
    } catch (error) {
      if (error instanceof SafetyNetError && error.code !== "FAILED") throw error;
      throw await explainCutDownload(client, input.id, error);
    }
    return { checkpointId: input.id, component: null, format: input.format, file, archiveBytes: written.bytes, archiveSha256: written.sha256, entries: null, warnings: download.notes, noteCount: download.noteCount, durationMs: Math.round(performance.now() - t0) };
  }
  const { openCheckpointArchive } = await import("../checkpoints/archive");
  const archive = await openCheckpointArchive(await ctx.core(), input.id, input.format, { intactOnly: input.intact });
  const written = await writeExportFile(file, archive.stream);
  return {
    checkpointId: archive.checkpointId,
    component: archive.component,
    format: input.format,
    file,
    archiveBytes: written.bytes,
    archiveSha256: written.sha256,
    entries: archive.entries,
    warnings: archive.notes,
    noteCount: archive.notes.length,
    durationMs: Math.round(performance.now() - t0),
  };
}

/**
 * The server cut the download short. It records damage it finds on the checkpoint,
 * so ask: a damaged checkpoint is an integrity failure (exit 4) naming the files,
 * anything else a failed operation.
 */
async function explainCutDownload(client: import("../mcp/remote-client").RemoteClient, checkpointId: string, cause: unknown): Promise<SafetyNetError> {
  const why = cause instanceof Error ? cause.message : String(cause);
  const checkpoint = await client.getCheckpoint({ id: checkpointId }).catch(() => null);
  if (checkpoint && checkpoint.damagedFiles.length > 0) {
    const named = checkpoint.damagedFiles
      .slice(0, 10)
      .map((p) => `${p.path ?? "manifest"} (${p.state})`)
      .join(", ");
    return new IntegrityError(`archive download aborted by the server: stored objects of checkpoint ${checkpointId} are damaged: ${named}; nothing was written`, {
      problems: checkpoint.damagedFiles,
    });
  }
  return new OperationFailedError(`archive download from ${client.target} was cut short (${why}); nothing was written`, { checkpointId });
}
