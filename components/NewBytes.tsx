import { formatBytes } from "@/lib/format";

/**
 * What a checkpoint added to the store. Content already stored (by this or another
 * component) is not stored again, so "new" is usually far below the size; it can be
 * above it for a small checkpoint, because the checkpoint's manifest (the list of
 * paths, modes, times and hashes) is stored too. That case says so.
 */
export function NewBytes({ bytes, newBytes, manifestBytes }: { bytes: number; newBytes: number; manifestBytes: number | null }) {
  const explain = `Bytes this checkpoint added to the store: file content that was not stored before${
    manifestBytes === null ? ", plus its manifest when new" : `, plus its manifest (${formatBytes(manifestBytes)}: paths, modes, times, hashes) when new`
  }. Content already stored is shared, not stored again.`;
  return (
    <span title={explain} data-testid="new-bytes">
      {formatBytes(newBytes)} new
      {newBytes > bytes ? (
        <span className="text-muted">
          {" "}
          (more than the {formatBytes(bytes)} of files: {manifestBytes === null ? "the manifest" : `the ${formatBytes(manifestBytes)} manifest`} is stored too)
        </span>
      ) : null}
    </span>
  );
}
