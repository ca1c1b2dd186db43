/**
 * How busy each component is, for the dashboard's component table: the number of
 * checkpoints it has (active and expired; deleted ones are gone) and when the
 * newest one was taken. One grouped query for all components.
 */
import type { Core } from "../core";

export interface ComponentActivity {
  checkpoints: number;
  lastCheckpointAt: string | null;
}

export const NO_ACTIVITY: ComponentActivity = { checkpoints: 0, lastCheckpointAt: null };

/** Activity per component id. Components without checkpoints are absent (use NO_ACTIVITY). */
export async function checkpointActivityByComponent(core: Core): Promise<Map<string, ComponentActivity>> {
  const groups = await core.db.checkpoint.groupBy({
    by: ["componentId"],
    where: { status: { not: "deleted" } },
    _count: { _all: true },
    _max: { createdAt: true },
  });
  return new Map(
    groups.map((g) => [g.componentId, { checkpoints: g._count._all, lastCheckpointAt: g._max.createdAt?.toISOString() ?? null }]),
  );
}
