/**
 * The component list as the dashboard, the API and the MCP tools show it: each
 * component with its checkpoint activity (component-activity.ts) and its failed
 * and refused rollbacks (audit/rollback-alarms.ts), and the instances that serve
 * it. One place, so every client
 * gets the same shape.
 */
import type { Core } from "../core";
import { listComponents } from "./components";
import { checkpointActivityByComponent, NO_ACTIVITY } from "./component-activity";
import { NO_ALARMS, rollbackAlarmsByComponent } from "../audit/rollback-alarms";
import { servingIndex } from "../instances/serving";

/** Each with `servedBy`: the instances whose roots contain its root, live or last seen (server/instances/). */
export async function listComponentsWithActivity(core: Core) {
  const [items, activity, alarms, servedBy] = await Promise.all([listComponents(core), checkpointActivityByComponent(core), rollbackAlarmsByComponent(core), servingIndex(core)]);
  return items.map((c) => ({ ...c, ...(activity.get(c.id) ?? NO_ACTIVITY), rollbackAlarms: alarms.get(c.name) ?? NO_ALARMS, servedBy: servedBy(c.root) }));
}
