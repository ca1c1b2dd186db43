/**
 * Failed authentication is throttled per client address (429 with Retry-After),
 * and forwarding headers are believed only behind a configured proxy
 * (SAFETYNET_TRUST_PROXY=1: the second test server has it, the main one not).
 *
 * Each test sends from its own loopback address (127.0.0.x), so its failures do
 * not count against the other test files, which all come from 127.0.0.1.
 */
import { mkdirSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, uniqueName } from "./api";

const server = inject("main");
const proxied = inject("second");
const admin = new Api(server.baseUrl, server.adminToken);

const LIMIT = 20;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let nextHost = 10 + (process.pid % 100);
/** A loopback address no other test uses. */
function freshLoopback(): string {
  nextHost++;
  return `127.0.0.${nextHost}`;
}

/** One HTTP request from `localAddress` (a 127.0.0.x address: the server sees it as the client). */
function send(baseUrl: string, localAddress: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${options.path}`, { method: options.method ?? "GET", headers: options.headers, localAddress, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const whoami = (token: string, extra: Record<string, string> = {}) => ({ path: "/api/trpc/auth.whoami", headers: { authorization: `Bearer ${token}`, ...extra } });

function expectThrottled(reply: Reply, address: string): void {
  expect(reply.status, reply.body).toBe(429);
  const retryAfter = Number(reply.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(reply.body).toContain(`too many failed authentication attempts from ${address}`);
}

describe("failed token attempts are throttled per client address", () => {
  it(`refuses an address after ${LIMIT} unknown tokens with 429 and Retry-After, right tokens included, while other addresses go on`, async () => {
    const address = freshLoopback();
    for (let i = 0; i < LIMIT; i++) expect((await send(server.baseUrl, address, whoami(`sn_guess-${i}`))).status).toBe(401);
    expectThrottled(await send(server.baseUrl, address, whoami("sn_guess-again")), address);
    // Throttled means not looked at: the admin's own token is refused from there too.
    expectThrottled(await send(server.baseUrl, address, whoami(server.adminToken)), address);
    expectThrottled(await send(server.baseUrl, address, { path: "/api/metrics", headers: { authorization: "Bearer sn_guess" } }), address);

    expect((await send(server.baseUrl, freshLoopback(), whoami(server.adminToken))).status).toBe(200);
    expect(await admin.get("auth.whoami")).toMatchObject({ name: "admin" });
  });

  it("counts a forged X-Forwarded-For as the socket's address when no proxy is trusted", async () => {
    const address = freshLoopback();
    for (let i = 0; i < LIMIT; i++) {
      expect((await send(server.baseUrl, address, whoami(`sn_guess-${i}`, { "x-forwarded-for": `198.51.100.${i}`, "x-safetynet-peer-address": `198.51.100.${i}` }))).status).toBe(401);
    }
    expectThrottled(await send(server.baseUrl, address, whoami("sn_guess", { "x-forwarded-for": "198.51.100.200" })), address);
  });

  it(`throttles failed sign-ins (login codes and pasted tokens) the same way`, async () => {
    const address = freshLoopback();
    const signIn = (secret: string) =>
      send(server.baseUrl, address, {
        method: "POST",
        path: "/api/auth/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: secret }).toString(),
      });
    for (let i = 0; i < LIMIT; i++) {
      const refused = await signIn(i % 2 === 0 ? `sl_guess-${i}` : `sn_guess-${i}`);
      expect(refused.status).toBe(303);
      expect(refused.headers.location).toMatch(/^\/login\?error=/);
    }
    const viewer = await createToken(admin, "viewer");
    const throttled = await signIn(viewer.token);
    expectThrottled(throttled, address);
    expect(throttled.headers["set-cookie"]).toBeUndefined();
  });
});

describe("X-Forwarded-Host and the CSRF origin check", () => {
  async function sessionCookie(baseUrl: string, token: string): Promise<string> {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    return (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  }

  it("is ignored without SAFETYNET_TRUST_PROXY: a cross-site origin cannot vouch for itself through the header", async () => {
    const operator = await createToken(admin, "operator");
    const cookie = await sessionCookie(server.baseUrl, operator.token);
    const forged = new Api(server.baseUrl, undefined, { cookie, origin: "https://evil.example", "x-forwarded-host": "evil.example" });
    const refused = expectError(await forged.mutation("component.upsert", { name: uniqueName("x"), root: server.workspace }), 403);
    expect(refused.message).toMatch(/cross-origin/);
  });

  it("is the host the browser used behind a trusted proxy (SAFETYNET_TRUST_PROXY=1)", async () => {
    const proxiedAdmin = new Api(proxied.baseUrl, proxied.adminToken);
    const operator = await createToken(proxiedAdmin, "operator");
    const cookie = await sessionCookie(proxied.baseUrl, operator.token);
    const viaProxy = new Api(proxied.baseUrl, undefined, { cookie, origin: "https://safetynet.example", "x-forwarded-host": "safetynet.example" });
    expect(await viaProxy.get("auth.whoami")).toMatchObject({ name: operator.name, via: "session" });
    const name = uniqueName("via-proxy");
    const root = path.join(proxied.workspace, name);
    mkdirSync(root);
    expect(await viaProxy.call("component.upsert", { name, root })).toMatchObject({ name });
    const crossSite = new Api(proxied.baseUrl, undefined, { cookie, origin: "https://evil.example", "x-forwarded-host": "safetynet.example" });
    expectError(await crossSite.mutation("component.remove", { name }), 403);
  });

  it("throttles by the proxy's X-Forwarded-For entry behind a trusted proxy", async () => {
    const proxy = freshLoopback();
    const client = `203.0.113.${nextHost}`;
    for (let i = 0; i < LIMIT; i++) expect((await send(proxied.baseUrl, proxy, whoami(`sn_guess-${i}`, { "x-forwarded-for": client }))).status).toBe(401);
    expectThrottled(await send(proxied.baseUrl, proxy, whoami("sn_guess", { "x-forwarded-for": client })), client);
    // Another client behind the same proxy is not affected.
    expect((await send(proxied.baseUrl, proxy, whoami(proxied.adminToken, { "x-forwarded-for": `203.0.113.${nextHost + 1}` }))).status).toBe(200);
  });
});
