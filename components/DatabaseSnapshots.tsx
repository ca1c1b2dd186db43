import { formatBytes, formatCount, shortSha } from "@/lib/format";
import type { CheckpointDetail } from "@/lib/trpc/types";

type Snapshot = CheckpointDetail["databases"][number];

const FORMAT_LABEL: Record<string, string> = { sqlite: "SQLite copy", pg_dump: "pg_dump", pg_copy: "in-process COPY", raw: "raw bytes of a file SQLite would not read as a database" };

/** The database snapshots a checkpoint holds: one per target, with its tables and row counts. */
export function DatabaseSnapshots({ databases }: { databases: Snapshot[] }) {
  if (databases.length === 0) return null;
  return (
    <section aria-labelledby="databases-heading" className="space-y-3 rounded-lg border border-border bg-surface p-4" data-testid="checkpoint-databases">
      <h2 id="databases-heading" className="text-sm font-semibold">
        Databases ({formatCount(databases.length)})
      </h2>
      <p className="text-xs text-muted">A rollback to this checkpoint replaces each of these databases whole with its snapshot, before any file is written.</p>
      <ul className="space-y-3">
        {databases.map((database) => (
          <li key={database.target} className="rounded-md border border-border bg-background px-3 py-2" data-testid="checkpoint-database">
            <p className="flex flex-wrap items-baseline justify-between gap-2">
              <span className="break-all font-mono text-xs font-semibold">{database.target}</span>
              <span className="text-xs text-muted">
                {database.state === "absent" ? (
                  "did not exist: a rollback removes it"
                ) : (
                  <>
                    {FORMAT_LABEL[database.format] ?? database.format}, {formatBytes(database.size)}
                    {database.sha256 ? <span className="ml-2 font-mono" title={database.sha256}>{shortSha(database.sha256)}</span> : null}
                  </>
                )}
              </span>
            </p>
            {database.tables.length > 0 ? (
              <table className="mt-2 w-full text-xs">
                <thead className="text-left text-muted">
                  <tr>
                    <th className="font-normal">Table</th>
                    <th className="text-right font-normal">Rows</th>
                    <th className="text-right font-normal">Columns</th>
                  </tr>
                </thead>
                <tbody>
                  {database.tables.map((table) => (
                    <tr key={table.name}>
                      <td className="break-all font-mono">{table.name}</td>
                      <td className="text-right tabular-nums">{formatCount(table.rows)}</td>
                      <td className="text-right tabular-nums" title={table.columns.join(", ")}>
                        {formatCount(table.columns.length)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : database.format === "raw" ? (
              <p className="mt-1 text-xs text-muted">SQLite could not read it ({database.unreadable ?? "unreadable"}): a rollback to this checkpoint writes these bytes back as they were.</p>
            ) : database.state === "present" ? (
              <p className="mt-1 text-xs text-muted">No tables.</p>
            ) : null}
            {database.serverVersion ? <p className="mt-1 text-xs text-muted">{database.serverVersion}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
