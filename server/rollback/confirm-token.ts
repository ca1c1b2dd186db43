/**
 * Confirm tokens for destructive actions: random, shown once, stored only as a
 * sha256, bound to one target, to the hash of the plan the user saw and to the
 * principal who asked for it (another token or user cannot spend it), expiring
 * (10 minutes by default) and single-use.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Core, Actor } from "../core";
import { InvalidInputError } from "../errors";

export const CONFIRM_TOKEN_TTL_MS = Number(process.env.SAFETYNET_CONFIRM_TTL_MS ?? 10 * 60_000);

export type ConfirmPurpose = "rollback" | "checkpoint.delete";

export interface IssuedToken {
  confirmToken: string;
  expiresAt: string;
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function issueConfirmToken(
  core: Core,
  request: { purpose: ConfirmPurpose; targetId: string; boundTo: string; liveSha?: string; actor: Actor },
): Promise<IssuedToken> {
  const confirmToken = `ct_${randomBytes(24).toString("base64url")}`;
  const expiresAt = new Date(core.now().getTime() + CONFIRM_TOKEN_TTL_MS);
  await core.db.confirmToken.create({
    data: {
      id: tokenHash(confirmToken),
      purpose: request.purpose,
      targetId: request.targetId,
      boundTo: request.boundTo,
      liveSha: request.liveSha ?? null,
      actor: request.actor,
      expiresAt,
    },
  });
  return { confirmToken, expiresAt: expiresAt.toISOString() };
}

export interface ConsumedToken {
  boundTo: string;
  liveSha: string | null;
}

/** Checks and spends a token; every refusal names why (400, field confirmToken). */
export async function consumeConfirmToken(core: Core, token: string, expected: { purpose: ConfirmPurpose; targetId: string; actor: Actor }): Promise<ConsumedToken> {
  const id = tokenHash(token);
  const row = await core.db.confirmToken.findUnique({ where: { id } });
  const refuse = (why: string) => new InvalidInputError(`confirmToken refused: ${why}`, { field: "confirmToken" });
  if (!row) throw refuse("unknown token; run the plan first and pass the token it returns");
  if (row.purpose !== expected.purpose || row.targetId !== expected.targetId) {
    throw refuse(`the token was issued for ${row.purpose} of ${row.targetId}, not ${expected.purpose} of ${expected.targetId}`);
  }
  if (row.actor !== expected.actor) throw refuse(`the token was issued to ${row.actor}, not to ${expected.actor}: whoever plans must also confirm`);
  if (row.usedAt) throw refuse("the token was already used; plan again");
  if (row.expiresAt.getTime() <= core.now().getTime()) throw refuse(`the token expired at ${row.expiresAt.toISOString()}; plan again`);
  const spent = await core.db.confirmToken.updateMany({ where: { id, usedAt: null }, data: { usedAt: core.now() } });
  if (spent.count !== 1) throw refuse("the token was already used; plan again");
  return { boundTo: row.boundTo, liveSha: row.liveSha };
}

/** Drops tokens that expired more than a day ago (housekeeping, called by retention). */
export async function purgeExpiredTokens(core: Core): Promise<number> {
  const cutoff = new Date(core.now().getTime() - 86_400_000);
  const { count } = await core.db.confirmToken.deleteMany({ where: { expiresAt: { lt: cutoff } } });
  return count;
}
