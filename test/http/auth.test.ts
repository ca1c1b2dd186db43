import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent, uniqueName, type CreatedToken } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const anonymous = new Api(server.baseUrl);

async function signIn(secret: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token: secret }).toString(),
    redirect: "manual",
  });
}

function sessionCookie(response: Response): string {
  const setCookie = response.headers.get("set-cookie") ?? "";
  const pair = setCookie.split(";")[0] ?? "";
  expect(pair).toMatch(/^sn_session=ss_/);
  return pair;
}

describe("first start", () => {
  it("wrote the admin token to <data dir>/admin-token with mode 0600 and printed a one-time login URL", async () => {
    const file = path.join(server.dataDir, "admin-token");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(server.adminToken).toMatch(/^sn_[A-Za-z0-9_-]{40,}$/);
    expect(await admin.get("auth.whoami")).toMatchObject({ name: "admin", role: "admin", via: "token", actor: "token:admin" });

    const url = /sign in:\s+(http:\/\/\S+\/login\?token=(sl_\S+))/.exec(readFileSync(server.logFile, "utf8"));
    expect(url, "login URL in the server output").not.toBeNull();
    expect(url?.[1]).toContain(server.baseUrl.replace("http://", ""));
    const code = decodeURIComponent(url?.[2] ?? "");

    const page = await fetch(`${server.baseUrl}/login?token=${encodeURIComponent(code)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('action="/api/auth/login"');

    const first = await signIn(code);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/");
    const cookie = sessionCookie(first);
    const viaSession = new Api(server.baseUrl, undefined, { cookie });
    expect(await viaSession.get("auth.whoami")).toMatchObject({ name: "admin", via: "session" });

    const again = await signIn(code);
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toMatch(/^\/login\?error=.*already%20used/);
    expect(again.headers.get("set-cookie")).toBeNull();
  });
});

describe("sessions", () => {
  it("sets an httpOnly, SameSite=Strict cookie (not Secure over http) that acts as the token and ends on logout", async () => {
    const viewer = await createToken(admin, "viewer");
    const response = await signIn(viewer.token);
    expect(response.status).toBe(303);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).not.toMatch(/Secure/i);
    expect(setCookie).toMatch(/Path=\//);
    const cookie = sessionCookie(response);
    const browser = new Api(server.baseUrl, undefined, { cookie });
    expect(await browser.get("auth.whoami")).toMatchObject({ name: viewer.name, role: "viewer", via: "session" });
    expectError(await browser.mutation("component.upsert", { name: uniqueName("x"), root: server.workspace }), 403);

    const logout = await fetch(`${server.baseUrl}/api/auth/logout`, { method: "POST", headers: { cookie }, redirect: "manual" });
    expect(logout.status).toBe(303);
    expect(logout.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expectError(await browser.query("auth.whoami"), 401);
  });

  it("marks the cookie Secure when the request came over https", async () => {
    const viewer = await createToken(admin, "viewer");
    const response = await signIn(viewer.token, { "x-forwarded-proto": "https" });
    expect(response.headers.get("set-cookie")).toMatch(/;\s*Secure/i);
  });

  it("refuses a session-authenticated change from another origin, and a bad sign-in", async () => {
    const operator = await createToken(admin, "operator");
    const cookie = sessionCookie(await signIn(operator.token));
    const crossSite = new Api(server.baseUrl, undefined, { cookie, origin: "https://evil.example" });
    expectError(await crossSite.mutation("component.upsert", { name: uniqueName("x"), root: server.workspace }), 403);
    const bad = await signIn("sn_not-a-real-token");
    expect(bad.status).toBe(303);
    expect(bad.headers.get("location")).toMatch(/^\/login\?error=/);
  });
});

describe("401: credentials", () => {
  it("refuses requests without credentials, with an unknown token, with a malformed header, and with a revoked token", async () => {
    expect((await expectError(await anonymous.query("component.list"), 401)).message).toMatch(/no credentials/);
    expectError(await anonymous.mutation("checkpoint.create", { component: "x" }), 401);
    expectError(await admin.as("sn_unknown").query("auth.whoami"), 401);
    const malformed = await fetch(`${server.baseUrl}/api/trpc/auth.whoami`, { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);

    const doomed = await createToken(admin, "agent");
    const agent = admin.as(doomed.token);
    expect(await agent.get("auth.whoami")).toMatchObject({ name: doomed.name });
    await admin.call("auth.revokeToken", { name: doomed.name });
    expect((await expectError(await agent.query("auth.whoami"), 401)).message).toMatch(/revoked/);
  });

  it("answers 401 before looking at the input", async () => {
    expectError(await anonymous.mutation("checkpoint.create", { component: "../../bad name" }), 401);
  });

  it("protects /api/metrics: 401 without a token, 200 for a viewer", async () => {
    const denied = await fetch(`${server.baseUrl}/api/metrics`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toMatch(/Bearer/);
    const viewer = await createToken(admin, "viewer");
    const allowed = await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${viewer.token}` } });
    expect(allowed.status).toBe(200);
  });
});

describe("403: roles and component scope", () => {
  let viewer: CreatedToken;
  let agent: CreatedToken;
  let operator: CreatedToken;
  let component: { name: string; root: string };

  beforeAll(async () => {
    [viewer, agent, operator] = await Promise.all([createToken(admin, "viewer"), createToken(admin, "agent"), createToken(admin, "operator")]);
    component = await makeComponent(admin, server.workspace, { "f.txt": "f\n" });
  });

  it("a viewer reads but cannot checkpoint or roll back", async () => {
    const api = admin.as(viewer.token);
    expect((await api.get<{ items: { name: string }[] }>("component.list")).items.map((c) => c.name)).toContain(component.name);
    const refused = expectError(await api.mutation("checkpoint.create", { component: component.name }), 403);
    expect(refused.message).toMatch(/role viewer; this needs agent/);
    expectError(await api.mutation("rollback.plan", { checkpointId: "cp_whatever" }), 403);
  });

  it("an agent checkpoints but cannot register components, pin or delete", async () => {
    const api = admin.as(agent.token);
    const created = await api.call<{ id: string }>("checkpoint.create", { component: component.name });
    const lowRole = expectError(await api.mutation("component.upsert", { name: uniqueName("c"), root: server.workspace }), 403);
    expect(lowRole.message).toMatch(/needs operator/);
    expect(lowRole.data.details).toMatchObject({ reason: "role", required: "operator" });
    expectError(await api.mutation("checkpoint.pin", { id: created.id, pinned: true }), 403);
    expectError(await api.mutation("checkpoint.planDelete", { id: created.id }), 403);
  });

  it("an operator manages components but not tokens", async () => {
    const api = admin.as(operator.token);
    await api.call("component.upsert", { name: component.name, root: component.root, metadata: { owner: "ops" } });
    expect((await expectError(await api.mutation("auth.createToken", { name: uniqueName("t"), role: "admin" }), 403)).message).toMatch(/needs admin/);
    expectError(await api.query("auth.listTokens"), 403);
  });

  it("a token scoped to one component is refused on another one, and on its checkpoints", async () => {
    const other = await makeComponent(admin, server.workspace, { "g.txt": "g\n" });
    const otherCheckpoint = await admin.call<{ id: string }>("checkpoint.create", { component: other.name });
    const scoped = await createToken(admin, "agent", [component.name]);
    const api = admin.as(scoped.token);

    await api.call("checkpoint.create", { component: component.name });
    const refused = expectError(await api.mutation("checkpoint.create", { component: other.name }), 403);
    // A scope refusal says so (not "role too low"), naming the component.
    expect(refused.message).toBe(`this token may not act on component "${other.name}" (token "${scoped.name}" is limited to ${component.name})`);
    expect(refused.data.details).toEqual({ reason: "scope", component: other.name, scope: [component.name] });
    expectError(await api.query("component.timeline", { component: other.name }), 403);
    expectError(await api.query("checkpoint.get", { id: otherCheckpoint.id }), 403);
    expectError(await api.query("checkpoint.diff", { id: otherCheckpoint.id }), 403);
    expectError(await api.mutation("rollback.plan", { checkpointId: otherCheckpoint.id }), 403);
    expectError(await api.query("history.list", { component: other.name }), 403);

    // Lists are narrowed to the scope.
    expect((await api.get<{ items: { name: string }[] }>("component.list")).items.map((c) => c.name)).toEqual([component.name]);
    const history = await api.get<{ items: { component: string }[] }>("history.list");
    expect(history.items.every((e) => e.component === component.name)).toBe(true);
    expect(await api.get("auth.whoami")).toMatchObject({ components: [component.name] });
  });

  it("the admin lists and revokes tokens; secrets are never listed", async () => {
    const listed = await admin.get<{ items: { name: string; role: string; lastUsedAt: string | null }[] }>("auth.listTokens");
    const entry = listed.items.find((t) => t.name === agent.name);
    expect(entry).toMatchObject({ role: "agent" });
    expect(entry?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(agent.token);
    expectError(await admin.mutation("auth.createToken", { name: agent.name, role: "viewer" }), 409);
  });
});

describe("sign-in returns to the page asked for", () => {
  it("sends a page visit without a session to /login with the page, and back to it after signing in; never off the site", async () => {
    const page = await fetch(`${server.baseUrl}/history?kind=rollback`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe("/login?next=%2Fhistory%3Fkind%3Drollback");

    const viewer = await createToken(admin, "viewer");
    const post = (next: string) =>
      fetch(`${server.baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: viewer.token, next }).toString(),
        redirect: "manual",
      });
    expect((await post("/history?kind=rollback")).headers.get("location")).toBe("/history?kind=rollback");
    expect((await post("//evil.example/x")).headers.get("location")).toBe("/");
    expect((await post("https://evil.example/")).headers.get("location")).toBe("/");

    // A refused sign-in keeps where to go.
    const bad = await fetch(`${server.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "sn_wrong", next: "/retention" }).toString(),
      redirect: "manual",
    });
    expect(bad.headers.get("location")).toMatch(/^\/login\?error=.*&next=%2Fretention$/);
  });

  it("says the session expired when the cookie no longer works", async () => {
    const page = await fetch(`${server.baseUrl}/retention`, { redirect: "manual", headers: { cookie: "sn_session=ss_gone" } });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe("/login?next=%2Fretention&reason=expired");
  });
});
