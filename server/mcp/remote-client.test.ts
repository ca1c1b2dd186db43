/**
 * RemoteClient against a stand-in HTTP server that answers like the tRPC route
 * does: the wire format @trpc/client uses (GET ?input= for queries, POST JSON for
 * mutations, the Bearer token) and how every error status becomes the core's
 * typed error, hence the CLI's exit code.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf, SafetyNetError } from "../errors";
import { RemoteClient, retryableFailure, trpcEndpoint } from "./remote-client";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
/** What the next request gets: status and body (an object is sent as JSON). */
let reply: { status: number; body: unknown; contentType?: string } = { status: 200, body: { result: { data: {} } } };
/** How many of the next requests are cut off (connection destroyed, no response byte), as a server closing a kept-alive socket would. */
let dropNext = 0;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => resolve(body));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, contentType: req.headers["content-type"], body: await readBody(req) });
    if (dropNext > 0) {
      dropNext--;
      req.socket.destroy();
      return;
    }
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { "content-type": reply.contentType ?? "application/json" });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function apiError(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return { status, body: { error: { message, code: -32600, data: { code, httpStatus: status, path: "x", field: null, safetynetCode: null, details: null, ...extra } } } };
}

async function failure(request: () => Promise<unknown>): Promise<SafetyNetError> {
  const error = await request().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetyNetError);
  return error as SafetyNetError;
}

describe("RemoteClient", () => {
  it("sends queries as GET ?input=<JSON> and mutations as POST JSON, with the Bearer token, and returns result.data", async () => {
    const client = new RemoteClient({ url: baseUrl, token: "sn_secret" });
    seen.length = 0;
    reply = { status: 200, body: { result: { data: { items: [{ id: "cp_1" }], nextCursor: null } } } };
    expect(await client.listCheckpoints({ component: "app", limit: 5 })).toEqual({ items: [{ id: "cp_1" }], nextCursor: null });
    reply = { status: 200, body: { result: { data: { confirmToken: "ct_1" } } } };
    expect(await client.planRollback({ checkpointId: "cp_1" })).toEqual({ confirmToken: "ct_1" });

    const [query, mutation] = seen;
    expect(query?.method).toBe("GET");
    const url = new URL(query?.url ?? "", baseUrl);
    expect(url.pathname).toBe("/api/trpc/checkpoint.list");
    expect(JSON.parse(url.searchParams.get("input") ?? "null")).toEqual({ component: "app", limit: 5 });
    expect(query?.authorization).toBe("Bearer sn_secret");
    expect(mutation).toMatchObject({ method: "POST", url: "/api/trpc/rollback.plan", authorization: "Bearer sn_secret", contentType: "application/json" });
    expect(JSON.parse(mutation?.body ?? "null")).toEqual({ checkpointId: "cp_1" });
  });

  it("maps every error status to the documented exit code", async () => {
    const client = new RemoteClient({ url: baseUrl, token: "sn_x" });
    const cases: [number, string, string, number, RegExp][] = [
      [400, "BAD_REQUEST", "invalid paths.0: no", 2, /^invalid paths\.0: no$/],
      [401, "UNAUTHORIZED", "unknown token", 1, /^authentication failed: unknown token \(HTTP 401\); check --token/],
      [403, "FORBIDDEN", "role viewer", 1, /^permission denied: role viewer \(HTTP 403\)$/],
      [404, "NOT_FOUND", 'no checkpoint with id "cp_x"', 5, /^no checkpoint with id "cp_x"$/],
      [409, "CONFLICT", "component app is locked", 3, /^component app is locked$/],
      [413, "PAYLOAD_TOO_LARGE", "request body is larger than the limit", 2, /larger than the limit/],
      [422, "UNPROCESSABLE_CONTENT", "rollback refused: 1 stored object(s) needed are damaged", 4, /damaged/],
      [500, "INTERNAL_SERVER_ERROR", "no space left on device", 1, /^the server failed: no space left on device \(HTTP 500\)$/],
    ];
    for (const [status, code, message, exit, pattern] of cases) {
      reply = apiError(status, code, message, status === 400 ? { field: "paths.0" } : {});
      const error = await failure(() => client.createCheckpoint({ component: "app" }));
      expect(exitCodeOf(error), `${status}`).toBe(exit);
      expect(error.message).toMatch(pattern);
      expect(error.details).toMatchObject({ httpStatus: status, apiCode: code });
      if (status === 400) expect(error.details.field).toBe("paths.0");
    }
  });

  it("says when the URL is not a Safety Net API or nothing listens there", async () => {
    const client = new RemoteClient({ url: baseUrl, token: "sn_x" });
    reply = { status: 404, body: "<!DOCTYPE html><p>not here</p>", contentType: "text/html" };
    const html = await failure(() => client.listComponents());
    expect(html.message).toMatch(/did not answer like a Safety Net API \(HTTP 404 with text\/html/);
    expect(exitCodeOf(html)).toBe(1);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await failure(() => new RemoteClient({ url: `http://127.0.0.1:${port}`, token: "t" }).listComponents());
    expect(down.message).toMatch(/^cannot reach the Safety Net server at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it("sends a query again when the connection was cut before any response, but never a mutation the server may have seen", async () => {
    const client = new RemoteClient({ url: baseUrl, token: "sn_x" });
    reply = { status: 200, body: { result: { data: { items: [] } } } };
    seen.length = 0;
    dropNext = 1;
    expect(await client.listComponents()).toEqual({ items: [] });
    expect(seen.map((s) => s.method)).toEqual(["GET", "GET"]);

    seen.length = 0;
    dropNext = 2;
    const twice = await failure(() => client.listComponents());
    expect(twice.message).toMatch(/^cannot reach the Safety Net server/);
    expect(seen).toHaveLength(2);

    seen.length = 0;
    dropNext = 1;
    const mutation = await failure(() => client.createCheckpoint({ component: "app" }));
    expect(mutation.message).toMatch(/^cannot reach the Safety Net server/);
    expect(seen.map((s) => s.method)).toEqual(["POST"]);
    dropNext = 0;
  });

  it("retries a mutation only when the connection was refused (the server never saw it)", () => {
    const networkFailure = (code: string) => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(code), { code }) });
    expect(retryableFailure("POST", networkFailure("ECONNREFUSED"))).toBe(true);
    for (const code of ["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_HEADERS_TIMEOUT"]) expect(retryableFailure("POST", networkFailure(code)), code).toBe(false);
    expect(retryableFailure("GET", networkFailure("UND_ERR_SOCKET"))).toBe(true);
    expect(retryableFailure("GET", new Error("not a network failure"))).toBe(false);
  });

  it("accepts the base URL with or without /api/trpc", () => {
    expect(trpcEndpoint("http://h:3000")).toBe("http://h:3000/api/trpc");
    expect(trpcEndpoint("http://h:3000/")).toBe("http://h:3000/api/trpc");
    expect(trpcEndpoint("http://h:3000/api/trpc/")).toBe("http://h:3000/api/trpc");
    expect(trpcEndpoint("https://h/prefix")).toBe("https://h/prefix/api/trpc");
  });
});
