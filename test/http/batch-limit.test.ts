/**
 * tRPC batching (`/api/trpc/a,b,c?batch=1`) is capped: one request may not
 * multiply the server's work without bound.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, uniqueName } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface BatchError {
  error: { message: string; data: { httpStatus: number; code: string } };
}

function batchUrl(procedure: string, calls: number): string {
  return `${server.baseUrl}/api/trpc/${Array.from({ length: calls }, () => procedure).join(",")}?batch=1`;
}

describe("batched requests", () => {
  let viewerToken: string;

  beforeAll(async () => {
    viewerToken = (await createToken(admin, "viewer")).token;
  });

  it("refuses a viewer's GET batch of 1,000 stats.summary calls with 400 naming the limit, before running any", async () => {
    const response = await fetch(batchUrl("stats.summary", 1000), { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as BatchError;
    // One error object, not 1,000 results: nothing ran.
    expect(Array.isArray(body)).toBe(false);
    expect(body.error.data).toMatchObject({ httpStatus: 400, code: "BAD_REQUEST" });
    expect(body.error.message).toMatch(/at most 100 calls; this one holds 1000/);
  });

  it("answers a batch of 100 (the limit) and refuses 101, for queries and for mutations", async () => {
    const headers = { authorization: `Bearer ${viewerToken}` };
    const hundred = await fetch(batchUrl("stats.summary", 100), { headers });
    expect(hundred.status).toBe(200);
    const results = (await hundred.json()) as { result: { data: { totals: unknown } } }[];
    expect(results).toHaveLength(100);
    for (const result of results) expect(result.result.data.totals).toBeDefined();

    const hundredAndOne = await fetch(batchUrl("stats.summary", 101), { headers });
    expect(hundredAndOne.status).toBe(400);
    expect(((await hundredAndOne.json()) as BatchError).error.message).toMatch(/at most 100 calls; this one holds 101/);

    const prefix = uniqueName("batched");
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [String(i), { name: `${prefix}-${i}`, role: "viewer" }])));
    const mutations = await fetch(batchUrl("auth.createToken", 101), {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body,
    });
    expect(mutations.status).toBe(400);
    expect(((await mutations.json()) as BatchError).error.message).toMatch(/at most 100 calls/);
    const tokens = await admin.get<{ items: { name: string }[] }>("auth.listTokens");
    expect(tokens.items.filter((t) => t.name.startsWith(prefix))).toEqual([]);
  });

  it("counts procedures whose separating commas are URL-encoded", async () => {
    const path = Array.from({ length: 130 }, () => "auth.whoami").join("%2C");
    const response = await fetch(`${server.baseUrl}/api/trpc/${path}?batch=1`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as BatchError).error.message).toMatch(/this one holds 130/);
  });
});
