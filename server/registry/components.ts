/**
 * The component registry: a named root inside an allowed workspace root, with
 * include/exclude globs and a metadata document (status, version, owner, free keys).
 */
import { dataPaths, type Core, type Actor } from "../core";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors";
import { parseDbTarget, parseDbTargets } from "../dbstate/targets";
import { assertRootDisjoint } from "./roots";
import { deleteSnapshotRecord } from "../checkpoints/snapshot-record";
import { newId } from "../ids";
import type { ComponentUpsertInput } from "../schemas";
import { assertNoSymlinkEscape, assertRootAllowed } from "../scan/paths";
import { removeStatCache } from "../scan/stat-cache";
import { changeTracker } from "../scan/change-tracker";
import { recordEvent } from "../audit/history";
import type { Component } from "../generated/prisma/client";

export interface ComponentView {
  id: string;
  name: string;
  root: string;
  include: string[];
  exclude: string[];
  metadata: Record<string, unknown>;
  /** Database targets in their canonical spelling (server/dbstate/targets.ts). */
  dbTargets: string[];
  createdAt: string;
  updatedAt: string;
}

export function toComponentView(row: Component): ComponentView {
  return {
    id: row.id,
    name: row.name,
    root: row.root,
    include: (row.include as string[] | null) ?? [],
    exclude: (row.exclude as string[] | null) ?? [],
    metadata: (row.metadata as Record<string, unknown> | null) ?? {},
    dbTargets: (row.dbTargets as string[] | null) ?? [],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function findComponentRow(core: Core, name: string): Promise<Component> {
  const row = await core.db.component.findUnique({ where: { name } });
  if (!row) throw new NotFoundError(`no component named "${name}"`, { component: name });
  return row;
}

export async function getComponent(core: Core, name: string): Promise<ComponentView> {
  return toComponentView(await findComponentRow(core, name));
}

export async function listComponents(core: Core): Promise<ComponentView[]> {
  const rows = await core.db.component.findMany({ orderBy: { name: "asc" } });
  return rows.map(toComponentView);
}

const DEFAULT_METADATA = { status: "active" };

export interface UpsertOptions {
  /** false for a caller scoped to some components: it may update them, not move their roots. */
  mayChangeRoot?: boolean;
}

export async function upsertComponent(core: Core, input: ComponentUpsertInput, actor: Actor, options: UpsertOptions = {}): Promise<ComponentView> {
  const startedAt = core.now();
  const root = assertRootAllowed(input.root, core.config.allowedRoots);
  const existing = await core.db.component.findUnique({ where: { name: input.name } });
  if (existing && existing.root !== root && options.mayChangeRoot === false) {
    throw new ForbiddenError(`component "${input.name}" is registered on ${existing.root}; this caller may not move it to ${root}`, { field: "root", root, currentRoot: existing.root });
  }
  await assertRootDisjoint(core, input.name, root);
  const dbTargets = input.dbTargets === undefined ? ((existing?.dbTargets as string[] | null) ?? []) : validDbTargets(root, input.dbTargets);
  const metadata = { ...DEFAULT_METADATA, ...((existing?.metadata as Record<string, unknown> | null) ?? {}), ...(input.metadata ?? {}) };
  const data = {
    root,
    include: input.include ?? ((existing?.include as string[] | null) ?? []),
    exclude: input.exclude ?? ((existing?.exclude as string[] | null) ?? []),
    metadata,
    dbTargets,
  };
  const row = existing
    ? await core.db.component.update({ where: { id: existing.id }, data })
    : await core.db.component.create({ data: { id: newId("cmp"), name: input.name, ...data } });
  await recordEvent(core, {
    kind: "component.upsert",
    component: row.name,
    actor,
    outcome: "succeeded",
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    details: { root, created: !existing, dbTargets },
  });
  return toComponentView(row);
}

/**
 * Canonical target specs, each checked: a SQLite file must lie inside the root
 * (no `..`, no symlink on the way); a PostgreSQL target names an environment
 * variable, never a URL. The field of the first bad one is named.
 */
function validDbTargets(root: string, specs: readonly string[]): string[] {
  const targets = specs.map((spec, index) => {
    try {
      const target = parseDbTarget(spec);
      if (target.engine === "sqlite") assertNoSymlinkEscape(root, target.path);
      return target;
    } catch (error) {
      if (error instanceof InvalidInputError) throw new InvalidInputError(error.message, { ...error.details, field: `dbTargets.${index}` });
      throw error;
    }
  });
  return parseDbTargets(targets.map((t) => t.name)).map((t) => t.name);
}

/**
 * Removes the component, its checkpoint rows, their snapshot records and its stat cache; objects
 * become garbage for the retention sweep. (A record left behind would be taken
 * for a checkpoint the database lost, and kept forever.)
 */
export async function removeComponent(core: Core, name: string, actor: Actor): Promise<void> {
  const startedAt = core.now();
  const row = await findComponentRow(core, name);
  const checkpoints = await core.db.checkpoint.findMany({ where: { componentId: row.id }, select: { id: true } });
  await core.db.component.delete({ where: { id: row.id } });
  for (const { id } of checkpoints) deleteSnapshotRecord(core.store, id);
  await core.store.flushRemote();
  removeStatCache(dataPaths(core.config.dataDir).statCache, row.id);
  // In the server: its root is no longer watched (when no other component has the same root).
  await changeTracker()?.forget(row.id);
  await recordEvent(core, { kind: "component.remove", component: name, actor, outcome: "succeeded", startedAt, durationMs: Date.now() - startedAt.getTime() });
}

/** Replaces the metadata document (used by rollback to restore the checkpointed one). */
export async function setComponentMetadata(core: Core, componentId: string, metadata: Record<string, unknown>): Promise<void> {
  await core.db.component.update({ where: { id: componentId }, data: { metadata: metadata as object } });
}
