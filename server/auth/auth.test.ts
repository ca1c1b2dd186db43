import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cleanUpAfterEach, openWorkspace } from "../../test/support/workspace";
import { ConflictError, NotFoundError } from "../errors";
import { actorOf, componentInScope, roleAtLeast } from "./roles";
import { authenticateApiToken, createApiToken, hashSecret, listApiTokens, revokeApiToken } from "./tokens";
import { authenticateSession, createSession, readCookie, sessionCookieHeader } from "./sessions";
import { issueLoginCode, signIn } from "./login-codes";
import { adminTokenPath, ensureAdminToken } from "./bootstrap";
import { authenticateRequest, isCrossOrigin } from "./request";

cleanUpAfterEach();

const BASE_URL = "http://127.0.0.1:3999";

describe("roles", () => {
  it("orders viewer < agent < operator < admin and scopes by component name", () => {
    expect(roleAtLeast("agent", "viewer")).toBe(true);
    expect(roleAtLeast("agent", "operator")).toBe(false);
    expect(roleAtLeast("admin", "operator")).toBe(true);
    expect(componentInScope({ components: [] }, "any")).toBe(true);
    expect(componentInScope({ components: ["a"] }, "b")).toBe(false);
    expect(actorOf({ name: "ci" })).toBe("token:ci");
  });
});

describe("API tokens", () => {
  it("shows the secret once and stores only its sha256", async () => {
    const { core } = openWorkspace();
    const created = await createApiToken(core, { name: "ci", role: "agent", components: ["b", "a", "a"] });
    expect(created.token).toMatch(/^sn_[A-Za-z0-9_-]{43}$/);
    expect(created.components).toEqual(["a", "b"]);
    const row = await core.db.apiToken.findUniqueOrThrow({ where: { name: "ci" } });
    expect(row.tokenHash).toBe(hashSecret(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(await listApiTokens(core))).not.toContain(created.token);
  });

  it("authenticates, records the last use, refuses unknown and revoked tokens, and keeps names unique", async () => {
    const { core } = openWorkspace();
    const created = await createApiToken(core, { name: "ci", role: "operator" });
    expect(await authenticateApiToken(core, created.token)).toMatchObject({ name: "ci", role: "operator", components: [], via: "token" });
    expect((await listApiTokens(core))[0]?.lastUsedAt).not.toBeNull();
    expect(await authenticateApiToken(core, "sn_nope")).toBeNull();
    expect(await authenticateApiToken(core, "not-even-prefixed")).toBeNull();
    await expect(createApiToken(core, { name: "ci", role: "viewer" })).rejects.toBeInstanceOf(ConflictError);
    await revokeApiToken(core, "ci");
    expect(await authenticateApiToken(core, created.token)).toBeNull();
    await expect(revokeApiToken(core, "missing")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("sessions and login codes", () => {
  it("a session acts as its token, expires, and ends when the token is revoked", async () => {
    const { core } = openWorkspace();
    const token = await createApiToken(core, { name: "ui", role: "viewer" });
    const session = await createSession(core, token.id);
    expect(await core.db.session.findUnique({ where: { id: session.cookieValue } })).toBeNull();
    expect(await authenticateSession(core, session.cookieValue)).toMatchObject({ name: "ui", via: "session" });

    await core.db.session.update({ where: { id: hashSecret(session.cookieValue) }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect(await authenticateSession(core, session.cookieValue)).toBeNull();

    const second = await createSession(core, token.id);
    await revokeApiToken(core, "ui");
    expect(await authenticateSession(core, second.cookieValue)).toBeNull();
  });

  it("a login code signs in once, and not after it expires", async () => {
    const { core } = openWorkspace();
    const token = await createApiToken(core, { name: "admin", role: "admin" });
    const { code } = await issueLoginCode(core, token.id);
    expect(await signIn(core, code)).toMatchObject({ ok: true, tokenName: "admin" });
    expect(await signIn(core, code)).toEqual({ ok: false, reason: "this login link was already used" });

    const stale = await issueLoginCode(core, token.id);
    await core.db.loginCode.update({ where: { id: hashSecret(stale.code) }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect(await signIn(core, stale.code)).toEqual({ ok: false, reason: "this login link expired" });
    expect(await signIn(core, token.token)).toMatchObject({ ok: true });
    expect(await signIn(core, "sn_wrong")).toMatchObject({ ok: false });
  });

  it("writes an httpOnly, SameSite=Strict cookie, Secure only when asked", () => {
    const expiresAt = new Date("2030-01-01T00:00:00Z");
    const plain = sessionCookieHeader("ss_abc", { expiresAt, secure: false });
    expect(plain).toBe("sn_session=ss_abc; Path=/; HttpOnly; SameSite=Strict; Expires=Tue, 01 Jan 2030 00:00:00 GMT");
    expect(sessionCookieHeader("ss_abc", { expiresAt, secure: true })).toMatch(/; Secure$/);
    expect(readCookie("a=1; sn_session=ss_x%3D; b=2", "sn_session")).toBe("ss_x=");
    expect(readCookie(null, "sn_session")).toBeNull();
  });
});

describe("request credentials", () => {
  it("prefers the Bearer header, explains what is wrong, and spots cross-origin writes", async () => {
    const { core } = openWorkspace();
    const token = await createApiToken(core, { name: "ci", role: "agent" });
    const session = await createSession(core, token.id);
    const request = (headers: Record<string, string>) => new Request("http://127.0.0.1:3000/api/trpc/x", { headers });
    expect((await authenticateRequest(core, request({ authorization: `Bearer ${token.token}` }))).principal?.via).toBe("token");
    expect((await authenticateRequest(core, request({ cookie: `sn_session=${session.cookieValue}` }))).principal?.via).toBe("session");
    expect((await authenticateRequest(core, request({ authorization: "Token abc" }))).problem).toMatch(/Bearer/);
    expect((await authenticateRequest(core, request({}))).problem).toMatch(/no credentials/);
    expect(isCrossOrigin(request({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" }))).toBe(false);
    expect(isCrossOrigin(request({ host: "127.0.0.1:3000", origin: "https://evil.example" }))).toBe(true);
    expect(isCrossOrigin(request({ host: "127.0.0.1:3000" }))).toBe(false);
  });
});

describe("admin bootstrap", () => {
  it("creates the admin token once, in a 0600 file, with a one-time login URL", async () => {
    const { core, dataDir } = openWorkspace();
    const first = await ensureAdminToken(core, { baseUrl: BASE_URL });
    if (!first.created) throw new Error("expected the admin token to be created");
    const file = adminTokenPath(dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(file, "utf8").trim();
    expect(await authenticateApiToken(core, secret)).toMatchObject({ name: "admin", role: "admin" });
    expect(first.loginUrl).toMatch(new RegExp(`^${BASE_URL}/login\\?token=sl_`));
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith("admin-token."))).toEqual([]);

    expect(await ensureAdminToken(core, { baseUrl: BASE_URL })).toEqual({ created: false, reason: "token file present" });
    fs.rmSync(file);
    expect(await ensureAdminToken(core, { baseUrl: BASE_URL })).toEqual({ created: false, reason: "another admin token exists" });
    expect((await listApiTokens(core)).filter((t) => t.role === "admin")).toHaveLength(1);
  });

  it("creates a new admin when the only admin token was revoked, under a free name", async () => {
    const { core } = openWorkspace();
    await ensureAdminToken(core, { baseUrl: BASE_URL });
    await revokeApiToken(core, "admin");
    const again = await ensureAdminToken(core, { baseUrl: BASE_URL });
    expect(again).toMatchObject({ created: true, tokenName: "admin-2" });
  });
});
