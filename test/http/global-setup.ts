/**
 * Global setup of the HTTP test project (vitest.http.config.ts): builds when
 * needed, starts two production servers and hands their addresses and admin
 * tokens to the tests through provide/inject:
 *   main   — default settings (10-minute confirm tokens, 1-hour retention grace)
 *   second — confirm tokens expire after SHORT_CONFIRM_TTL_MS, retention collects
 *            objects without a grace period, and it trusts forwarding headers as if
 *            behind a reverse proxy (SAFETYNET_TRUST_PROXY=1): for the expiry,
 *            retention and proxy tests
 */
import type { TestProject } from "vitest/node";
import { ensureBuild, ensureCliBuild, startServer, type RunningServer } from "./server";

export const SHORT_CONFIRM_TTL_MS = 1500;
/** The second server accepts /api/cron/retention with this bearer secret (the first has none: route disabled). */
export const CRON_SECRET_FOR_TESTS = "test-cron-secret-5b1f";

export interface ServerInfo {
  baseUrl: string;
  adminToken: string;
  dataDir: string;
  workspace: string;
  logFile: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    main: ServerInfo;
    second: ServerInfo & { confirmTtlMs: number };
  }
}

function info(server: RunningServer): ServerInfo {
  return { baseUrl: server.baseUrl, adminToken: server.adminToken, dataDir: server.dataDir, workspace: server.workspace, logFile: server.logFile };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureBuild();
  ensureCliBuild();
  const started = await Promise.allSettled([
    startServer({ name: "main" }),
    startServer({
      name: "second",
      env: { SAFETYNET_CONFIRM_TTL_MS: String(SHORT_CONFIRM_TTL_MS), SAFETYNET_RETENTION_GRACE_MS: "0", CRON_SECRET: CRON_SECRET_FOR_TESTS, SAFETYNET_TRUST_PROXY: "1" },
    }),
  ]);
  const [main, second] = started.map((s) => (s.status === "fulfilled" ? s.value : null));
  if (!main || !second) {
    // Never leave a server running when the other one failed to start.
    await Promise.all([main?.stop(), second?.stop()]);
    const failure = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    throw failure?.reason instanceof Error ? failure.reason : new Error(String(failure?.reason));
  }
  project.provide("main", info(main));
  project.provide("second", { ...info(second), confirmTtlMs: SHORT_CONFIRM_TTL_MS });
  return async () => {
    await Promise.all([main.stop(), second.stop()]);
  };
}
