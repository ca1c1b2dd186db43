import type { Command } from "commander";
import { byCheckpointId, checkpointCreateInput, checkpointDiffInput, checkpointExportInput, checkpointListInput } from "../../schemas";
import { contextFor } from "../context";
import { collect, emit, parseInput, parseInteger, parseKeyValues, setExitCode } from "../io";
import { formatBytes, formatDuration, formatTable, shortSha } from "../format";
import { createProgress } from "../progress";
import type { DatabaseChange } from "../../dbstate/databases";
import type { DiffEntry } from "../../checkpoints/diff";

interface CreateOptions {
  path?: string[];
  reason?: string;
  meta?: string[];
  agent?: string;
  task?: string;
  depth?: string;
  retentionDays?: string;
  pin?: boolean;
  db?: boolean;
}

/** A database's lines in `checkpoint diff`: the table list and row counts against the checkpoint. */
/** What a modified sparse file's diff line adds: its apparent size and data, and a change between sparse and dense. */
function sparseChange(entry: DiffEntry): string {
  const { before, after } = entry;
  if (!before?.sparse && !after?.sparse) return "";
  const side = (s: DiffEntry["before"]) => (s?.sparse ? `sparse, ${formatBytes(s.size)} with ${formatBytes(s.sparse.dataBytes)} data` : `dense, ${formatBytes(s?.size ?? 0)}`);
  return ` (${side(before)} -> ${side(after)})`;
}

function describeDatabaseChange(change: DatabaseChange): string[] {
  if (change.error) return [`database ${change.target}: cannot be read now: ${change.error}`];
  if (change.rawBytes !== null) {
    const held = `the checkpoint holds the raw bytes of a file SQLite would not read as a database (${change.rawBytes})`;
    if (!change.changed) return [`database ${change.target}: the same bytes as at the checkpoint, which holds the raw bytes of a file SQLite would not read as a database (${change.rawBytes})`];
    const now = !change.exists ? "the file is gone now" : change.unreadableNow !== null ? `the file holds other bytes now (${change.unreadableNow})` : "it is a SQLite database now";
    return [`database ${change.target}: ${held}; ${now}; a rollback writes those bytes back`];
  }
  if (change.unreadableNow !== null) {
    return [`database ${change.target}: the file is not a database SQLite reads now (${change.unreadableNow}); a rollback replaces it with the checkpoint's database and keeps its bytes in the safety checkpoint`];
  }
  if (!change.existed || !change.exists) return [`database ${change.target}: ${change.existed ? "removed since the checkpoint" : change.exists ? "created since the checkpoint" : "absent, as at the checkpoint"}`];
  if (!change.changed) return [`database ${change.target}: same tables, columns and row counts`];
  return [
    `database ${change.target}:`,
    ...change.tablesAdded.map((t) => `  table added    ${t}`),
    ...change.tablesDropped.map((t) => `  table dropped  ${t}`),
    ...change.tablesChanged.map(
      (t) =>
        `  table changed  ${t.table}: ${t.rowsBefore} -> ${t.rowsAfter} rows${t.columnsAdded.length ? `, columns added ${t.columnsAdded.join(", ")}` : ""}${t.columnsDropped.length ? `, columns dropped ${t.columnsDropped.join(", ")}` : ""}`,
    ),
  ];
}

export function registerCheckpointCommands(program: Command): void {
  const checkpoint = program.command("checkpoint").description("create, inspect, compare and verify checkpoints");

  checkpoint
    .command("create <component>")
    .description("checkpoint a component (or only --path files and their related tests, siblings and imports)")
    .option("--path <p>", "primary path relative to the component root (repeatable); default: the whole component", collect)
    .option("--depth <n>", "how many hops of relative imports to follow from the primaries", "1")
    .option("--reason <text>", "why this checkpoint is taken")
    .option("--agent <name>", "the agent about to make the change")
    .option("--task <id>", "the task or ticket the change is for")
    .option("--meta <key=value>", "caller metadata (repeatable)", collect)
    .option("--retention-days <n>", "keep at least this many days (default 7)")
    .option("--pin", "never delete this checkpoint by retention")
    .option("--db", "also snapshot the component's database targets (component add --db)")
    .action(async (component: string, opts: CreateOptions, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(checkpointCreateInput, {
        component,
        paths: opts.path,
        depth: parseInteger(opts.depth ?? "1", "--depth"),
        reason: opts.reason,
        agent: opts.agent,
        task: opts.task,
        metadata: parseKeyValues(opts.meta, "--meta"),
        retentionDays: opts.retentionDays === undefined ? undefined : parseInteger(opts.retentionDays, "--retention-days"),
        pinned: opts.pin,
        includeDb: opts.db,
      });
      const remote = await ctx.remoteClient();
      let created;
      if (remote) {
        created = await remote.createCheckpoint(input);
      } else {
        const [{ createCheckpoint }, core, progress] = await Promise.all([import("../../checkpoints/create"), ctx.core(), createProgress(ctx.mode, "hashing")]);
        try {
          created = await createCheckpoint(core, input, ctx.actor, { onProgress: (done, total) => progress.update(done, total) });
        } finally {
          progress.stop();
        }
      }
      emit(ctx.mode, created, () =>
        [
          `checkpoint ${created.id} of ${created.component}`,
          `  ${created.files} files, ${created.dirs} dirs, ${created.symlinks} symlinks, ${formatBytes(created.bytes)} (${formatBytes(created.newBytes)} new)`,
          `  manifest sha256 ${created.manifestSha256}`,
          ...(created.related.length ? [`  related: ${created.related.map((r) => `${r.path} (${r.reason})`).join(", ")}`] : []),
          ...created.databases.map(
            (d) =>
              `  database ${d.target}: ${d.state === "absent" ? "did not exist" : d.format === "raw" ? `the raw bytes of a file SQLite would not read as a database (${d.unreadable ?? "unreadable"}), ${formatBytes(d.bytes)} (sha256 ${d.sha256})` : `${d.tables} tables, ${d.rows} rows, ${formatBytes(d.bytes)} (${d.format}, sha256 ${d.sha256})`}`,
          ),
          `  took ${formatDuration(created.durationMs)}; kept until ${created.retentionUntil}${created.pinned ? " (pinned)" : ""}`,
          ...(created.unstable.length > 0
            ? [`  warning: ${created.unstable.length} file(s) kept changing while read and are recorded without content (a rollback to this checkpoint leaves them alone): ${created.unstable.join(", ")}`]
            : []),
        ].join("\n"),
      );
    });

  checkpoint
    .command("list [component]")
    .description("list checkpoints, newest first")
    .option("--limit <n>", "how many", "50")
    .option("--cursor <id>", "continue after this id (from nextCursor)")
    .action(async (component: string | undefined, opts: { limit: string; cursor?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(checkpointListInput, { component, limit: parseInteger(opts.limit, "--limit"), cursor: opts.cursor });
      const remote = await ctx.remoteClient();
      let page;
      if (remote) {
        page = await remote.listCheckpoints(input);
      } else {
        const { listCheckpoints } = await import("../../checkpoints/queries");
        page = await listCheckpoints(await ctx.core(), input);
      }
      emit(ctx.mode, page, () =>
        page.items.length === 0
          ? "no checkpoints"
          : formatTable(
              ["ID", "COMPONENT", "CREATED", "KIND", "FILES", "SIZE", "CHANGES", "STATE", "REASON"],
              page.items.map((c) => [
                c.id,
                c.component,
                c.createdAt,
                c.kind + (c.pinned ? "*" : ""),
                c.files,
                formatBytes(c.bytes),
                // Against the previous checkpoint covering the same scope; none for a first checkpoint.
                c.changes ? `+${c.changes.added} ~${c.changes.modified} -${c.changes.deleted}` : "",
                c.status === "active" ? c.verifyState : c.status,
                c.reason,
              ]),
            ) + (page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : ""),
      );
    });

  checkpoint
    .command("show <id>")
    .description("show a checkpoint: metadata, counts, related files")
    .option("--entries", "also list every entry")
    .action(async (id: string, opts: { entries?: boolean }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(byCheckpointId, { id });
      const remote = await ctx.remoteClient();
      let detail;
      let entries;
      if (remote) {
        detail = await remote.getCheckpoint(input);
        entries = opts.entries ? (await remote.checkpointEntries({ id: input.id, limit: 500 })).items : undefined;
      } else {
        const { getCheckpoint, listCheckpointEntries } = await import("../../checkpoints/queries");
        const core = await ctx.core();
        detail = await getCheckpoint(core, input.id);
        entries = opts.entries ? (await listCheckpointEntries(core, input.id, { limit: 500 })).items : undefined;
      }
      emit(ctx.mode, entries ? { ...detail, entries } : detail, () =>
        [
          `checkpoint ${detail.id} (${detail.kind}, ${detail.status}, ${detail.verifyState}${detail.pinned ? ", pinned" : ""})`,
          `  component  ${detail.component}`,
          `  created    ${detail.createdAt} by ${detail.actor} in ${formatDuration(detail.durationMs)}`,
          `  reason     ${detail.reason ?? "-"}`,
          `  scope      ${detail.scope.kind === "all" ? "whole component" : (detail.scope.paths ?? []).join(", ")}`,
          `  content    ${detail.files} files, ${detail.dirs} dirs, ${detail.symlinks} symlinks, ${formatBytes(detail.bytes)}`,
          `  manifest   ${detail.manifestSha256}`,
          `  retention  until ${detail.retentionUntil}`,
          `  caller     ${JSON.stringify(detail.callerMeta)}`,
          `  metadata   ${JSON.stringify(detail.componentMeta)}`,
          ...detail.related.map((r) => `  related    ${r.path} (${r.reason})`),
          ...detail.databases.map(
            (d) =>
              `  database   ${d.target}: ${
                d.state === "absent"
                  ? "did not exist"
                  : d.format === "raw"
                    ? `the raw bytes of a file SQLite would not read as a database (${d.unreadable ?? "unreadable"}); ${formatBytes(d.size)}, sha256 ${d.sha256}${(d.sideFiles ?? []).map((f) => `; its ${f.suffix} ${formatBytes(f.size)}, sha256 ${f.sha256}`).join("")}`
                    : `${d.tables.map((t) => `${t.name} (${t.rows} rows)`).join(", ") || "no tables"}; ${formatBytes(d.size)}, ${d.format}, sha256 ${d.sha256}`
              }`,
          ),
          ...(entries ?? []).map((e) => `  ${e.kind.padEnd(7)} ${e.mode.toString(8).padStart(4, "0")} ${String(e.size).padStart(10)} ${shortSha(e.sha256 ?? null)} ${e.path}${e.linkTarget ? ` -> ${e.linkTarget}` : ""}`),
        ].join("\n"),
      );
    });

  checkpoint
    .command("diff <id>")
    .description("what changed in the live tree since the checkpoint (or, with --against, from it to another checkpoint)")
    .option("--patch", "include a unified diff for each modified text file")
    .option("--against <other-id>", "compare with this checkpoint of the same component instead of the live tree (the workspace is not read)")
    .action(async (id: string, opts: { patch?: boolean; against?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(checkpointDiffInput, { id, against: opts.against, textDiff: opts.patch });
      const remote = await ctx.remoteClient();
      let diff;
      if (remote) {
        diff = await remote.diffCheckpoint(input);
      } else {
        const { diffCheckpoint } = await import("../../checkpoints/diff");
        diff = await diffCheckpoint(await ctx.core(), input.id, { textDiff: input.textDiff, against: input.against });
      }
      emit(ctx.mode, diff, () => {
        const lines: string[] = [];
        for (const e of diff.added) lines.push(`A ${e.path}`);
        for (const e of diff.modified) lines.push(`M ${e.path}${sparseChange(e)}`);
        for (const e of diff.deleted) lines.push(`D ${e.path}`);
        for (const e of diff.modeChanged) lines.push(`P ${e.path} (${e.before?.mode.toString(8)} -> ${e.after?.mode.toString(8)})`);
        for (const e of diff.typeChanged) lines.push(`T ${e.path} (${e.before?.kind} -> ${e.after?.kind})`);
        for (const e of diff.linkChanged) lines.push(`L ${e.path} (${e.before?.hardlinkTo !== undefined ? `was another name of ${e.before.hardlinkTo}` : "was a file of its own"}, ${e.after?.hardlinkTo !== undefined ? `now another name of ${e.after.hardlinkTo}` : "now a file of its own"})`);
        for (const e of diff.mtimeChanged) lines.push(`t ${e.path} (only the modification time changed)`);
        for (const p of diff.unstable) lines.push(`? ${p} (kept changing while the checkpoint was taken: not compared, a rollback leaves it alone)`);
        lines.sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1));
        const summary = `${diff.added.length} added, ${diff.modified.length} modified, ${diff.deleted.length} deleted, ${diff.modeChanged.length} mode changed, ${diff.typeChanged.length} type changed, ${diff.linkChanged.length} hard links changed, ${diff.mtimeChanged.length} only touched, ${diff.unchanged} unchanged${diff.against ? ` (from ${diff.checkpointId} to ${diff.against})` : ""}`;
        const patches = diff.modified.filter((e) => e.patch).map((e) => e.patch as string);
        // A damaged checkpoint is still diffed: its damaged files are named, without patches.
        const damaged = (diff.damaged ?? []).map((d) => `! ${d.path ?? "(the manifest)"} is ${d.state} in the store${diff.against ? ` (checkpoint ${d.checkpointId})` : ""}: no patch`);
        return [...lines, summary, ...damaged, ...diff.databases.flatMap(describeDatabaseChange), ...patches].join("\n");
      });
    });

  checkpoint
    .command("verify <id>")
    .description("re-hash every stored object of a checkpoint")
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(byCheckpointId, { id });
      const { EXIT_CODES } = await import("../../errors");
      const remote = await ctx.remoteClient();
      let result;
      if (remote) {
        result = await remote.verifyCheckpoint(input);
      } else {
        const { verifyCheckpoint } = await import("../../checkpoints/verify");
        result = await verifyCheckpoint(await ctx.core(), input.id, ctx.actor);
      }
      emit(ctx.mode, result, () =>
        [`checkpoint ${result.checkpointId}: ${result.state} (${result.objectsChecked} objects, ${formatBytes(result.bytesChecked)})`, ...result.problems.map((p) => `  ${p.state}: ${p.path ?? "manifest"} ${p.sha256}`)].join("\n"),
      );
      if (result.state !== "verified") setExitCode(EXIT_CODES.INTEGRITY);
    });

  checkpoint
    .command("restore <id>")
    .description("write a checkpoint's files into an empty (or new) directory; the component itself is not touched")
    .requiredOption("--to <dir>", "the directory to restore into: empty, or not existing yet (its parent must exist)")
    .action(async (id: string, opts: { to: string }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(byCheckpointId, { id });
      const [{ restoreCheckpointInto }, core, progress] = await Promise.all([import("../../rollback/restore-into"), ctx.core(), createProgress(ctx.mode, "restoring")]);
      let result;
      try {
        result = await restoreCheckpointInto(core, input.id, opts.to, { actor: ctx.actor, onProgress: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      emit(ctx.mode, result, () =>
        [
          `restored checkpoint ${result.checkpointId} of ${result.component} into ${result.target}`,
          `  ${result.files} files, ${result.dirs} dirs, ${result.symlinks} symlinks, ${formatBytes(result.bytes)} in ${formatDuration(result.durationMs)}`,
          ...(result.unstable.length > 0 ? [`  not written (they kept changing while the checkpoint was taken; it holds no content for them): ${result.unstable.join(", ")}`] : []),
        ].join("\n"),
      );
    });

  checkpoint
    .command("export <id>")
    .description("write a checkpoint as a .tar.gz or .zip archive (modes, mtimes and symlinks kept; every object verified while written)")
    .requiredOption("--format <format>", "tar.gz or zip")
    .requiredOption("-o, --output <file>", "the archive file to write (replaced atomically; nothing is left there if the export fails)")
    .option("--intact", "a damaged checkpoint: write its intact files only (the damaged ones are listed as left out) instead of refusing")
    .action(async (id: string, opts: { format: string; output: string; intact?: boolean }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(checkpointExportInput, { id, format: opts.format, ...(opts.intact ? { intact: true } : {}) });
      const path = await import("node:path");
      const file = path.resolve(opts.output);
      const { exportCheckpointArchive } = await import("../export-archive");
      const result = await exportCheckpointArchive(ctx, input, file);
      emit(ctx.mode, result, () =>
        [
          `exported checkpoint ${result.checkpointId}${result.component ? ` of ${result.component}` : ""} to ${result.file}`,
          `  ${result.format}, ${formatBytes(result.archiveBytes)}${result.entries === null ? "" : `, ${result.entries} entries`} in ${formatDuration(result.durationMs)}`,
          `  archive sha256 ${result.archiveSha256}`,
          ...(result.noteCount > 0
            ? [
                `  warning: ${result.noteCount} names could not be held as they are: renamed or left out (listed in .safetynet-export-notes.json in the archive):`,
                ...result.warnings.map((w) => `    ${w.path} ${w.archivedAs === null ? "left out" : `-> ${w.archivedAs}`} (${w.reason})`),
              ]
            : []),
        ].join("\n"),
      );
    });

  for (const [name, pinned] of [["pin", true], ["unpin", false]] as const) {
    checkpoint
      .command(`${name} <id>`)
      .description(pinned ? "keep a checkpoint whatever the retention policy says" : "let retention apply to a checkpoint again")
      .action(async (id: string, _opts: unknown, command: Command) => {
        const ctx = contextFor(command);
        const input = parseInput(byCheckpointId, { id });
        const { pinCheckpoint } = await import("../../checkpoints/lifecycle");
        const view = await pinCheckpoint(await ctx.core(), input.id, pinned, ctx.actor);
        emit(ctx.mode, view, () => `checkpoint ${view.id} ${pinned ? "pinned" : "unpinned"}`);
      });
  }

  checkpoint
    .command("delete <id>")
    .description("delete a checkpoint (asks for confirmation)")
    .option("--yes", "do not ask")
    .action(async (id: string, opts: { yes?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(byCheckpointId, { id });
      const { planCheckpointDelete, deleteCheckpoint } = await import("../../checkpoints/lifecycle");
      const { confirmOrRefuse } = await import("../confirm");
      const core = await ctx.core();
      const plan = await planCheckpointDelete(core, input.id, ctx.actor);
      await confirmOrRefuse(`Delete checkpoint ${plan.checkpointId} of ${plan.component} (${plan.files} files, ${formatBytes(plan.bytes)})?`, Boolean(opts.yes));
      const result = await deleteCheckpoint(core, input.id, plan.confirmToken, ctx.actor);
      emit(ctx.mode, result, () => `checkpoint ${result.checkpointId} deleted`);
    });
}
