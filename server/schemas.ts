/**
 * Input contracts shared by the tRPC routers, the CLI and the MCP tools: one zod
 * schema per operation, so every boundary validates the same way and names the
 * offending field.
 */
import { z } from "zod";
import { isTimeZone } from "./timeline/zoned-time";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const componentName = z
  .string()
  .regex(NAME_PATTERN, "a component name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");

/** Longest file name (one path segment) file systems accept, in bytes (NAME_MAX). */
export const MAX_NAME_BYTES = 255;

/** The first segment of `p` longer than MAX_NAME_BYTES, if any. */
export function overlongSegment(p: string): string | undefined {
  return p.split("/").find((segment) => Buffer.byteLength(segment, "utf8") > MAX_NAME_BYTES);
}

const segmentTooLong = (p: string) => {
  const segment = overlongSegment(p) ?? "";
  return `"${segment.slice(0, 40)}..." is ${Buffer.byteLength(segment, "utf8")} bytes long; a file name may be at most ${MAX_NAME_BYTES} bytes`;
};

/** A path relative to a component root; deeper checks (no `..`, no symlink escape) happen in server/scan/paths.ts. */
export const relativePath = z
  .string()
  .min(1, "a path may not be empty")
  .max(4096)
  .refine((p) => !p.includes("\0"), "a path may not contain a NUL byte")
  .refine((p) => overlongSegment(p) === undefined, { error: (issue) => segmentTooLong(String(issue.input)) });

export const glob = z.string().min(1).max(1024).refine((p) => !p.includes("\0"), "a glob may not contain a NUL byte");

/** Objects and arrays nested in free metadata, at most (the record itself is level 1). */
export const MAX_METADATA_DEPTH = 32;
export const MAX_METADATA_BYTES = 64 * 1024;

/** Whether `value` nests objects/arrays deeper than `limit` levels; iterative, so no input can exhaust the stack. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop() as { value: unknown; depth: number };
    if (current === null || typeof current !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) pending.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/** Free metadata: string keys to JSON values, bounded in depth and size so one request cannot bloat (or crash) the database. */
export const metadataRecord = z
  .record(z.string().min(1).max(128), z.unknown())
  // Checked first, and final: measuring the size of a very deep document would itself overflow the stack.
  .refine((m) => !nestsDeeperThan(m, MAX_METADATA_DEPTH), { message: `metadata may nest objects and arrays at most ${MAX_METADATA_DEPTH} levels deep`, abort: true })
  .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `metadata may hold at most ${MAX_METADATA_BYTES / 1024} KiB of JSON`);

/**
 * A database target: `sqlite:<path in the root>` or `postgres:<ENV_VAR>[?schema=a,b][&tables=t]`
 * (the environment variable holds the URL; the URL itself is never given). The full
 * check happens in the core (server/dbstate/targets.ts), naming the field.
 */
export const dbTargetSpec = z
  .string()
  .min(1, "a database target may not be empty")
  .max(1024)
  .refine((p) => !p.includes("\0"), "a database target may not contain a NUL byte");

export const componentUpsertInput = z.object({
  name: componentName,
  root: z
    .string()
    .min(1)
    .max(4096)
    .refine((p) => !p.includes("\0"), "root may not contain a NUL byte")
    .refine((p) => overlongSegment(p) === undefined, { error: (issue) => segmentTooLong(String(issue.input)) }),
  include: z.array(glob).max(256).optional(),
  exclude: z.array(glob).max(256).optional(),
  metadata: metadataRecord.optional(),
  /** Replaces the component's database targets ([] removes them); omitted: kept as they are. */
  dbTargets: z.array(dbTargetSpec).max(16).optional(),
});
export type ComponentUpsertInput = z.infer<typeof componentUpsertInput>;

export const componentByName = z.object({ name: componentName });

export const checkpointCreateInput = z.object({
  component: componentName,
  paths: z.array(relativePath).max(10_000).optional(),
  /** How many hops of related-file discovery (imports of imports); default 1. */
  depth: z.number().int().min(0).max(5).optional(),
  reason: z.string().max(2000).optional(),
  agent: z.string().max(200).optional(),
  task: z.string().max(200).optional(),
  metadata: metadataRecord.optional(),
  retentionDays: z.number().int().min(0).max(36_500).optional(),
  pinned: z.boolean().optional(),
  /** Also snapshot the component's database targets (server/dbstate). */
  includeDb: z.boolean().optional(),
});
export type FileHistoryInput = z.infer<typeof fileHistoryInput>;
export type CheckpointCreateInput = z.infer<typeof checkpointCreateInput>;

export const checkpointId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "a checkpoint id is letters, digits, '_' or '-'");

export const byCheckpointId = z.object({ id: checkpointId });

export const pageInput = {
  cursor: z.string().max(128).optional(),
  limit: z.number().int().min(1).max(500).optional(),
};

export const checkpointListInput = z.object({ component: componentName.optional(), ...pageInput });
export type CheckpointListInput = z.infer<typeof checkpointListInput>;

export const checkpointDiffInput = z.object({
  id: checkpointId,
  /** Compare with this checkpoint of the same component instead of the live tree. */
  against: checkpointId.optional(),
  textDiff: z.boolean().optional(),
  maxTextBytes: z.number().int().min(0).max(10_000_000).optional(),
  /** Only this path's row (and its patch): one file of a rollback plan, opened before confirming. */
  path: z.string().min(1).max(4096).optional(),
});

export const checkpointPinInput = z.object({ id: checkpointId, pinned: z.boolean() });

export const confirmToken = z.string().min(1).max(512);

export const checkpointDeleteInput = z.object({ id: checkpointId, confirmToken: confirmToken.optional() });

/** Move ignored or out-of-scope entries that stand where the rollback must put a path into the data directory's quarantine, instead of refusing. */
const moveObstacles = z.boolean().optional();
/** Paths a rollback may be restricted to, at most. */
export const MAX_ROLLBACK_PATHS = 1_000;
/** Restore only these paths (files, or folders with everything under them); deeper checks (no `..`, inside the root, within the checkpoint's scope) name `paths.<index>`. */
const rollbackPaths = z.array(relativePath).min(1, "paths: name at least one path, or leave paths out").max(MAX_ROLLBACK_PATHS).optional();
export const rollbackPlanInput = z.object({ checkpointId, moveObstacles, paths: rollbackPaths });
export const rollbackExecuteInput = z.object({ checkpointId, confirmToken, moveObstacles, paths: rollbackPaths });
export type RollbackExecuteInput = z.infer<typeof rollbackExecuteInput>;

export const historyKinds = [
  "component.upsert",
  "component.remove",
  "checkpoint.create",
  "checkpoint.verify",
  "checkpoint.pin",
  "checkpoint.delete",
  "checkpoint.restore",
  "rollback",
  "recover",
  "retention.run",
  "retention.set",
  "checkpoint.expire",
] as const;
export const historyOutcomes = ["succeeded", "failed"] as const;

export const historyListInput = z.object({
  component: componentName.optional(),
  kind: z.enum(historyKinds).optional(),
  outcome: z.enum(historyOutcomes).optional(),
  /** Failed rollbacks only: those that ran and failed, or those refused by a check before any change (audit/rollback-failure.ts). */
  failure: z.enum(["ran", "refused"]).optional(),
  actor: z.string().max(200).optional(),
  /** Events of checkpoints whose caller named exactly this agent / task (a task is also the session's key). */
  agent: z.string().trim().min(1).max(200).optional(),
  task: z.string().trim().min(1).max(200).optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  ...pageInput,
});
export type HistoryListInput = z.infer<typeof historyListInput>;

export const tokenRoles = ["viewer", "agent", "operator", "admin"] as const;
export type TokenRole = (typeof tokenRoles)[number];

const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const tokenName = z
  .string()
  .regex(TOKEN_NAME_PATTERN, "a token name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");

export const tokenCreateInput = z.object({
  name: tokenName,
  role: z.enum(tokenRoles),
  /** Component names the token may act on; empty or absent = every component. */
  components: z.array(componentName).max(256).optional(),
});
export type TokenCreateInput = z.infer<typeof tokenCreateInput>;

export const tokenByName = z.object({ name: tokenName });

export const checkpointEntriesInput = z.object({
  id: checkpointId,
  prefix: z.string().max(4096).optional(),
  cursor: z.string().max(4096).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

/** `checkpoint.changes`: one checkpoint's change records against its base, in path order. */
export const checkpointChangesInput = z.object({
  id: checkpointId,
  /** The last path of the previous page. */
  cursor: z.string().max(4096).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});
export type CheckpointChangesInput = z.infer<typeof checkpointChangesInput>;

/** `file.history`: every checkpoint of a component in which one path changed, newest first. */
export const fileHistoryInput = z.object({
  component: componentName,
  path: relativePath,
  /** The last checkpoint id of the previous page. */
  cursor: checkpointId.optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/** `file.content`: one path's entry and content (text capped) as a checkpoint holds it. */
export const fileContentInput = z.object({ checkpointId, path: relativePath });
export type FileContentInput = z.infer<typeof fileContentInput>;

/** `file.diff`: one path from checkpoint `from` to checkpoint `to`, both of `component`. */
export const fileDiffInput = z.object({ component: componentName, path: relativePath, from: checkpointId, to: checkpointId });
export type FileDiffInput = z.infer<typeof fileDiffInput>;

/** `session.list`: a component's checkpoints grouped by the task they name, latest activity first. */
export const sessionListInput = z.object({
  component: componentName.optional(),
  /** The nextCursor of the previous page. */
  cursor: z.string().max(512).regex(/^[A-Za-z0-9_-]+$/, "a sessions cursor is the nextCursor of the previous page").optional(),
  limit: z.number().int().min(1).max(200).optional(),
});
export type SessionListInput = z.infer<typeof sessionListInput>;

// ---------------------------------------------------------------------------
// Retention (server/retention): policies, runs, the integrity sweep.

const retentionCount = z.number().int().min(0).max(100_000);

/** keepDays / keepLast / keepDaily / keepWeekly: omitted or null = rule not used. The whole policy of the scope is replaced. */
export const retentionPolicyInput = z
  .object({
    /** The component's own policy; with neither component nor safety: the global policy. */
    component: componentName.optional(),
    /** The policy of automatic safety checkpoints. */
    safety: z.boolean().optional(),
    keepDays: z.number().int().min(0).max(36_500).nullable().optional(),
    keepLast: retentionCount.nullable().optional(),
    keepDaily: retentionCount.nullable().optional(),
    keepWeekly: retentionCount.nullable().optional(),
    /** Remove the scope's policy (a component falls back to global, global to the default). */
    reset: z.boolean().optional(),
    /** Also bring the existing checkpoints' own retention dates forward to what the policy gives (default: they keep theirs). */
    applyToExisting: z.boolean().optional(),
    /** Only say what the policy would do (its forecast); save nothing. */
    dryRun: z.boolean().optional(),
  })
  .refine((v) => !(v.component && v.safety), { message: "give either component or safety, not both", path: ["safety"] })
  .refine((v) => !v.reset || [v.keepDays, v.keepLast, v.keepDaily, v.keepWeekly].every((r) => r === undefined || r === null), {
    message: "reset takes no rules",
    path: ["reset"],
  })
  .refine((v) => !(v.reset && v.applyToExisting), { message: "applyToExisting needs rules to apply, not reset", path: ["applyToExisting"] });
export type RetentionPolicyInput = z.infer<typeof retentionPolicyInput>;

export const retentionGetInput = z.object({ component: componentName.optional() });
export type RetentionGetInput = z.infer<typeof retentionGetInput>;

export const retentionRunInput = z.object({ dryRun: z.boolean().optional() });
export type RetentionRunInput = z.infer<typeof retentionRunInput>;

// ---------------------------------------------------------------------------
// The component timeline (server/timeline): one time axis of checkpoints, rollbacks,
// verifications and removals, newest first, a page at a time.

export const utcDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day is YYYY-MM-DD (UTC)").refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), "not a calendar day");

export const componentTimelineInput = z.object({
  component: componentName,
  /** From `nextCursor` of the previous page. */
  cursor: z
    .string()
    .max(96)
    .regex(/^\d{1,15}:[0-3]:[A-Za-z0-9_-]{0,64}$/, "a timeline cursor is the nextCursor of the previous page")
    .optional(),
  /** Start at the end of this UTC day (older items follow): the date jump. Ignored with a cursor. */
  day: utcDay.optional(),
  /** Start at this instant: items at or before it, newest first (the date-and-time jump). Ignored with a cursor; wins over `day`. */
  at: z.iso.datetime({ offset: true, message: "at is an ISO 8601 date and time, e.g. 2026-11-25T18:30:00Z" }).optional(),
  /** Only checkpoints whose id, reason, agent, task or actor contain this (and rollbacks and events of matching ids). */
  q: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(200).optional(),
  /** Only damaged checkpoints (active, their last check found corrupt or missing objects): what the damaged alarm links to. */
  damaged: z.boolean().optional(),
});
export type ComponentTimelineInput = z.infer<typeof componentTimelineInput>;

/** An IANA time zone name the server knows ("UTC", "America/Los_Angeles"). */
export const timeZoneName = z.string().max(64).refine(isTimeZone, "timeZone is an IANA time zone name, e.g. Europe/Berlin or UTC");

export const timelineDaysInput = componentByName.extend({
  /** Count by calendar day in this zone (default UTC). */
  timeZone: timeZoneName.optional(),
});
export type TimelineDaysInput = z.infer<typeof timelineDaysInput>;

export const archiveFormats = ["tar.gz", "zip"] as const;
export type ArchiveFormat = (typeof archiveFormats)[number];
export const archiveFormat = z.enum(archiveFormats, { message: "format is tar.gz or zip" });

export const historyExportFormats = ["csv", "json"] as const;
export const historyExportFormat = z.enum(historyExportFormats, { message: "format is csv or json" });

export const checkpointExportInput = z.object({
  id: checkpointId,
  format: archiveFormat,
  /** A damaged checkpoint: archive its intact files only (the damaged ones listed as left out) instead of refusing. */
  intact: z.boolean().optional(),
});
export type CheckpointExportInput = z.infer<typeof checkpointExportInput>;
