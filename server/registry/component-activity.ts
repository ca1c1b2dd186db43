/**
 * How busy and how healthy each component is, for the dashboard's component list:
 * the number of checkpoints it has (active and expired; deleted ones are gone),
 * when the newest one was taken, and how many of its active checkpoints a check
 * found damaged (corrupt or missing objects). Two grouped queries for all components.
 */
import type { Core } from "../core";

export interface ComponentActivity {
  checkpoints: number;
  lastCheckpointAt: string | null;
  /** Active checkpoints whose last check found corrupt or missing objects. */
  damagedCheckpoints: number;
}

export const NO_ACTIVITY: ComponentActivity = { checkpoints: 0, lastCheckpointAt: null, damagedCheckpoints: 0 };

/** Activity per component id. Components without checkpoints are absent (use NO_ACTIVITY). */
export async function checkpointActivityByComponent(core: Core): Promise<Map<string, ComponentActivity>> {
  const [groups, damaged] = await Promise.all([
    core.db.checkpoint.groupBy({
      by: ["componentId"],
      where: { status: { not: "deleted" } },
      _count: { _all: true },
      _max: { createdAt: true },
    }),
    core.db.checkpoint.groupBy({
      by: ["componentId"],
      where: { status: "active", verifyState: { in: ["corrupt", "missing"] } },
      _count: { _all: true },
    }),
  ]);
  const damagedBy = new Map(damaged.map((g) => [g.componentId, g._count._all]));
  return new Map(
    groups.map((g) => [
      g.componentId,
      { checkpoints: g._count._all, lastCheckpointAt: g._max.createdAt?.toISOString() ?? null, damagedCheckpoints: damagedBy.get(g.componentId) ?? 0 },
    ]),
  );
}
