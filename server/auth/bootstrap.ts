/**
 * First start: when no admin can sign in yet, create an admin token, write it to
 * `<data dir>/admin-token` (mode 0600, written atomically) and print a one-time
 * login URL. Later starts find the file (or another live admin token) and do
 * nothing, so the secret is printed once.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Core } from "../core";
import { ConflictError } from "../errors";
import { authenticateApiToken, createApiToken } from "./tokens";
import { issueLoginCode, LOGIN_CODE_TTL_MS } from "./login-codes";

export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, "admin-token");
}

export type BootstrapResult =
  | { created: true; tokenName: string; tokenFile: string; loginUrl: string }
  | { created: false; reason: "token file present" | "another admin token exists" };

export async function ensureAdminToken(core: Core, options: { baseUrl: string }): Promise<BootstrapResult> {
  const file = adminTokenPath(core.config.dataDir);
  if (existsSync(file)) {
    const current = readFileSync(file, "utf8").trim();
    const principal = current ? await authenticateApiToken(core, current) : null;
    if (principal) return { created: false, reason: "token file present" };
  }
  const liveAdmin = await core.db.apiToken.findFirst({ where: { role: "admin", revokedAt: null } });
  if (liveAdmin) {
    core.log.warn({ event: "auth.bootstrap", tokenFile: file }, "an admin token exists but admin-token file is missing or stale; not creating another (use `safetynet token create <name> --role admin`)");
    return { created: false, reason: "another admin token exists" };
  }
  const created = await createFirstAdmin(core);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, created.token + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  const { code } = await issueLoginCode(core, created.id);
  const loginUrl = `${options.baseUrl.replace(/\/$/, "")}/login?token=${encodeURIComponent(code)}`;
  core.log.info({ event: "auth.bootstrap", tokenName: created.name, tokenFile: file }, "admin token created");
  return { created: true, tokenName: created.name, tokenFile: file, loginUrl };
}

async function createFirstAdmin(core: Core) {
  for (let attempt = 1; ; attempt++) {
    const name = attempt === 1 ? "admin" : `admin-${attempt}`;
    try {
      return await createApiToken(core, { name, role: "admin" });
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 50) throw error;
    }
  }
}

export function describeBootstrap(result: BootstrapResult): string | null {
  if (!result.created) return null;
  return [
    "",
    "Safety Net: created the admin token.",
    `  token file:  ${result.tokenFile} (mode 0600)`,
    `  sign in:     ${result.loginUrl}`,
    `  The login link works once and expires in ${Math.max(1, Math.round(LOGIN_CODE_TTL_MS / 60_000))} minutes; afterwards sign in at /login with the token from the file.`,
    "",
  ].join("\n");
}
