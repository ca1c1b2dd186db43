/**
 * API tokens: `sn_` + 32 random bytes (base64url). The plain token is returned
 * once, at creation; only its sha256 is stored. Tokens are named (the name is
 * the history actor `token:<name>`), carry a role and an optional component
 * scope, can be revoked, and record when they were last used.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Core } from "../core";
import { ConflictError, NotFoundError } from "../errors";
import { newId } from "../ids";
import type { TokenCreateInput } from "../schemas";
import type { ApiToken } from "../generated/prisma/client";
import { isTokenRole, type Principal, type TokenRole } from "./roles";

export const API_TOKEN_PREFIX = "sn_";

/** lastUsedAt is written at most this often per token, so busy agents do not turn every read into a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function randomSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export interface TokenView {
  id: string;
  name: string;
  role: TokenRole;
  components: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function toTokenView(row: ApiToken): TokenView {
  return {
    id: row.id,
    name: row.name,
    role: isTokenRole(row.role) ? row.role : "viewer",
    components: (row.components as string[] | null) ?? [],
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export interface CreatedToken extends TokenView {
  /** The secret itself: shown once, never stored. */
  token: string;
}

export async function createApiToken(core: Core, input: TokenCreateInput): Promise<CreatedToken> {
  const existing = await core.db.apiToken.findUnique({ where: { name: input.name } });
  if (existing) {
    const state = existing.revokedAt ? "a revoked token keeps its name so history stays unambiguous" : "revoke it first or pick another name";
    throw new ConflictError(`a token named "${input.name}" already exists (${state})`, { field: "name" });
  }
  const token = randomSecret(API_TOKEN_PREFIX);
  const components = [...new Set(input.components ?? [])].sort();
  const row = await core.db.apiToken.create({
    data: { id: newId("tok"), name: input.name, tokenHash: hashSecret(token), role: input.role, components },
  });
  core.log.info({ event: "token.create", tokenName: row.name, role: row.role, components }, "token created");
  return { ...toTokenView(row), token };
}

export async function listApiTokens(core: Core): Promise<TokenView[]> {
  const rows = await core.db.apiToken.findMany({ orderBy: { createdAt: "asc" } });
  return rows.map(toTokenView);
}

/** Revokes the token and ends every session made from it. */
export async function revokeApiToken(core: Core, name: string): Promise<TokenView> {
  const row = await core.db.apiToken.findUnique({ where: { name } });
  if (!row) throw new NotFoundError(`no token named "${name}"`, { field: "name" });
  const revoked = row.revokedAt ? row : await core.db.apiToken.update({ where: { id: row.id }, data: { revokedAt: core.now() } });
  await core.db.session.deleteMany({ where: { tokenId: row.id } });
  await core.db.loginCode.deleteMany({ where: { tokenId: row.id } });
  core.log.info({ event: "token.revoke", tokenName: row.name }, "token revoked");
  return toTokenView(revoked);
}

export function principalOf(row: ApiToken, via: Principal["via"]): Principal {
  const view = toTokenView(row);
  return { tokenId: view.id, name: view.name, role: view.role, components: view.components, via };
}

/** The live (not revoked) token row by id, recording its use. */
export async function activeTokenById(core: Core, tokenId: string): Promise<ApiToken | null> {
  const row = await core.db.apiToken.findUnique({ where: { id: tokenId } });
  if (!row || row.revokedAt) return null;
  await touchToken(core, row);
  return row;
}

/** Resolves a presented `sn_...` token; null when unknown or revoked. */
export async function authenticateApiToken(core: Core, token: string): Promise<Principal | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 256) return null;
  const row = await core.db.apiToken.findUnique({ where: { tokenHash: hashSecret(token) } });
  if (!row || row.revokedAt) return null;
  await touchToken(core, row);
  return principalOf(row, "token");
}

async function touchToken(core: Core, row: ApiToken): Promise<void> {
  const now = core.now();
  if (row.lastUsedAt && now.getTime() - row.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  await core.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
}

