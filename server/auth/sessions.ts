/**
 * Browser sessions. The cookie holds 32 random bytes; the database keeps only
 * their sha256 (Session.id) and an expiry. A session acts as the token it was
 * made from, so revoking the token ends it. The cookie is httpOnly and
 * SameSite=Strict, and Secure only when the request came over https (the
 * server binds 127.0.0.1 over plain http by default).
 */
import type { Core } from "../core";
import { activeTokenById, hashSecret, principalOf, randomSecret } from "./tokens";
import type { Principal } from "./roles";

export const SESSION_COOKIE = "sn_session";
export const SESSION_TTL_MS = Number(process.env.SAFETYNET_SESSION_TTL_MS ?? 12 * 3_600_000);

export interface CreatedSession {
  cookieValue: string;
  expiresAt: Date;
}

export async function createSession(core: Core, tokenId: string): Promise<CreatedSession> {
  const cookieValue = randomSecret("ss_");
  const expiresAt = new Date(core.now().getTime() + SESSION_TTL_MS);
  await core.db.session.create({ data: { id: hashSecret(cookieValue), tokenId, expiresAt } });
  // Sweep expired sessions while we are writing anyway.
  await core.db.session.deleteMany({ where: { expiresAt: { lt: core.now() } } });
  return { cookieValue, expiresAt };
}

export async function authenticateSession(core: Core, cookieValue: string): Promise<Principal | null> {
  if (cookieValue.length === 0 || cookieValue.length > 256) return null;
  const row = await core.db.session.findUnique({ where: { id: hashSecret(cookieValue) } });
  if (!row || row.expiresAt.getTime() <= core.now().getTime()) return null;
  const token = await activeTokenById(core, row.tokenId);
  return token ? principalOf(token, "session") : null;
}

export async function endSession(core: Core, cookieValue: string): Promise<void> {
  await core.db.session.deleteMany({ where: { id: hashSecret(cookieValue) } });
}

/** The cookie's value in a Cookie header, or null. */
export function readCookie(cookieHeader: string | null, name: string): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** True when the request reached us over https (directly or through a proxy that says so). */
export function isHttps(request: Request): boolean {
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  if (forwarded) return forwarded === "https";
  return new URL(request.url).protocol === "https:";
}

export function sessionCookieHeader(value: string, options: { expiresAt: Date; secure: boolean }): string {
  const parts = [`${SESSION_COOKIE}=${encodeURIComponent(value)}`, "Path=/", "HttpOnly", "SameSite=Strict", `Expires=${options.expiresAt.toUTCString()}`];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearSessionCookieHeader(secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=0"];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
