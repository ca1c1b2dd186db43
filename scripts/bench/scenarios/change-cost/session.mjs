// The server the change-cost scenario measures: `npm start` (scripts/start.mjs) on a data
// directory with SAFETYNET_WATCH at the product's default, one component, and an agent
// token scoped to it; every measured call is one HTTP request from this process.
import path from "node:path";
import { startServer } from "../../server.mjs";
import { must, trpcClient } from "../../trpc-client.mjs";

/**
 * `dir` holds the server's log. The hourly retention schedule is off: a sweep of its own
 * in the middle of a measurement would be timed with it (and checkpoints made with
 * retentionDays 0 would expire under it). `env`: more environment for the server (a bucket).
 */
export async function openSession({ dir, dataDir, allowedRoots, component, root, env = {} }) {
  const server = await startServer({
    via: "start",
    dataDir,
    allowedRoots,
    logFile: path.join(dir, `server-${component}.log`),
    watch: null,
    env: { SAFETYNET_RETENTION_SCHEDULE: "off", ...env },
  });
  try {
    const admin = trpcClient(server.baseUrl, server.adminToken());
    await must(admin, "component.upsert", { name: component, root });
    const token = await must(admin, "auth.createToken", { name: `bench-${component}`, role: "agent", components: [component] });
    const agent = trpcClient(server.baseUrl, token.data.token);
    // One untimed request first: the connection, the route's first compile and the token's first lookup.
    await must(agent, "checkpoint.list", { component, limit: 1 }, { query: true });
    return { server, admin, agent, component };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The tool the API rows time: one request each (a rollback is two: plan, then execute). */
export function apiTool(session, { label = "safetynet API" } = {}) {
  const { agent, component } = session;
  return {
    name: "api",
    label,
    async checkpoint(input = {}) {
      const { data, ms } = await must(agent, "checkpoint.create", { component, reason: "bench --change-cost", ...input });
      return { ms, id: data.id, filesRead: data.filesRead, data };
    },
    async rollback(checkpointId) {
      const plan = await must(agent, "rollback.plan", { checkpointId });
      const executed = await must(agent, "rollback.execute", { checkpointId, confirmToken: plan.data.confirmToken });
      if (executed.data.outcome !== "succeeded") throw new Error(`rollback.execute outcome ${executed.data.outcome}`);
      return { ms: plan.ms + executed.ms, planMs: plan.ms, executeMs: executed.ms, safetyCheckpointId: executed.data.safetyCheckpointId ?? null };
    },
  };
}

/**
 * What the server's scans learned changes from, per its log: its first "watchman" line
 * (Watchman tracking, not installed, or SAFETYNET_WATCH=off), and how many later lines
 * said a scan had to walk the whole tree after all.
 */
export function changeSource(server) {
  const messages = server.logMessages("watchman");
  return { startedWith: messages[0] ?? "no change-tracking line in the server's log", walksReported: messages.slice(1).filter((m) => /walk/.test(m)).length, messages: messages.slice(0, 20) };
}
