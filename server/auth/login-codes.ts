/**
 * One-time login links. The first start prints `http://HOST:PORT/login?token=sl_...`;
 * the code is single-use, expires (15 minutes by default) and is stored only as
 * a sha256. Exchanging it (or a pasted `sn_` API token) yields a session.
 */
import type { Core } from "../core";
import { activeTokenById, authenticateApiToken, hashSecret, randomSecret } from "./tokens";
import { createSession, type CreatedSession } from "./sessions";

export const LOGIN_CODE_PREFIX = "sl_";
export const LOGIN_CODE_TTL_MS = Number(process.env.SAFETYNET_LOGIN_CODE_TTL_MS ?? 15 * 60_000);

export async function issueLoginCode(core: Core, tokenId: string): Promise<{ code: string; expiresAt: Date }> {
  const code = randomSecret(LOGIN_CODE_PREFIX);
  const expiresAt = new Date(core.now().getTime() + LOGIN_CODE_TTL_MS);
  await core.db.loginCode.create({ data: { id: hashSecret(code), tokenId, expiresAt } });
  return { code, expiresAt };
}

export type LoginResult = ({ ok: true; tokenName: string } & CreatedSession) | { ok: false; reason: string };

/** Signs in with a one-time login code (`sl_...`) or an API token (`sn_...`). */
export async function signIn(core: Core, presented: string): Promise<LoginResult> {
  const secret = presented.trim();
  if (secret.startsWith(LOGIN_CODE_PREFIX)) {
    const id = hashSecret(secret);
    const row = await core.db.loginCode.findUnique({ where: { id } });
    if (!row) return { ok: false, reason: "unknown login link" };
    if (row.usedAt) return { ok: false, reason: "this login link was already used" };
    if (row.expiresAt.getTime() <= core.now().getTime()) return { ok: false, reason: "this login link expired" };
    const spent = await core.db.loginCode.updateMany({ where: { id, usedAt: null }, data: { usedAt: core.now() } });
    if (spent.count !== 1) return { ok: false, reason: "this login link was already used" };
    const token = await activeTokenById(core, row.tokenId);
    if (!token) return { ok: false, reason: "the token behind this link was revoked" };
    return { ok: true, tokenName: token.name, ...(await createSession(core, token.id)) };
  }
  const principal = await authenticateApiToken(core, secret);
  if (!principal) return { ok: false, reason: "unknown or revoked token" };
  return { ok: true, tokenName: principal.name, ...(await createSession(core, principal.tokenId)) };
}
