/**
 * Hostile input is refused with a 4xx naming what was wrong, never a 500, and
 * nothing is written before the refusal.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent } from "./api";
import { CRON_SECRET_FOR_TESTS } from "./global-setup";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

function nested(levels: number): Record<string, unknown> {
  const top: Record<string, unknown> = {};
  let current = top;
  for (let i = 1; i < levels; i++) {
    const next: Record<string, unknown> = {};
    current.k = next;
    current = next;
  }
  return top;
}

/** Snapshot records in the store that name `component`. */
function snapshotRecordsOf(component: string): string[] {
  const dir = path.join(server.dataDir, "store", "snapshots");
  return readdirSync(dir).filter((name) => readFileSync(path.join(dir, name), "utf8").includes(`"component":${JSON.stringify(component)}`));
}

describe("400 instead of 500", () => {
  let agent: Api;
  let component: { name: string; root: string };

  beforeAll(async () => {
    agent = admin.as((await createToken(admin, "agent")).token);
    component = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
  });

  it("refuses metadata nested 200 levels deep, naming the limit, and writes no snapshot record", async () => {
    const refused = expectError(await agent.mutation("checkpoint.create", { component: component.name, metadata: { x: nested(200) } }), 400);
    expect(refused.data.field).toBe("metadata");
    expect(refused.message).toMatch(/at most 32 levels deep/);
    expect(snapshotRecordsOf(component.name)).toEqual([]);

    // 32 levels (the record itself counts as one) are fine.
    const created = await agent.call<{ id: string }>("checkpoint.create", { component: component.name, metadata: { x: nested(31) } });
    expect(snapshotRecordsOf(component.name)).toEqual([`${created.id}.json`]);

    const upsert = expectError(await admin.mutation("component.upsert", { name: component.name, root: component.root, metadata: { deep: nested(200) } }), 400);
    expect(upsert.data.field).toBe("metadata");
  });

  it("refuses a path segment over 255 bytes with 400 naming the path, in checkpoint paths and component roots", async () => {
    const long = "x".repeat(300);
    const inPaths = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["a.txt", long] }), 400);
    expect(inPaths.data.field).toBe("paths.1");
    expect(inPaths.message).toMatch(/"x{40}\.\.\." is 300 bytes long; a file name may be at most 255 bytes/);
    const nested = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: [`dir/${long}/f.txt`] }), 400);
    expect(nested.data.field).toBe("paths.0");

    const asRoot = expectError(await admin.mutation("component.upsert", { name: `${component.name}-long`, root: path.join(server.workspace, long) }), 400);
    expect(asRoot.data.field).toBe("root");
    expect(asRoot.message).toMatch(/300 bytes long/);

    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    const wide = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["é".repeat(128)] }), 400);
    expect(wide.message).toMatch(/256 bytes long/);
  });

  it("treats an entries prefix as literal text: `%` and `_` are not wildcards", async () => {
    const files = { "ab_c/1.txt": "1\n", "abXc/2.txt": "2\n", "ab%d.txt": "3\n", "abYd.txt": "4\n" };
    const { name } = await makeComponent(admin, server.workspace, files);
    const { id } = await agent.call<{ id: string }>("checkpoint.create", { component: name });
    const paths = async (prefix: string, extra: Record<string, unknown> = {}) =>
      (await agent.get<{ items: { path: string }[]; nextCursor: string | null }>("checkpoint.entries", { id, prefix, ...extra }));
    expect((await paths("ab_")).items.map((e) => e.path)).toEqual(["ab_c", "ab_c/1.txt"]);
    expect((await paths("ab%")).items.map((e) => e.path)).toEqual(["ab%d.txt"]);
    expect((await paths("ab")).items.map((e) => e.path)).toEqual(["ab%d.txt", "abXc", "abXc/2.txt", "abYd.txt", "ab_c", "ab_c/1.txt"]);

    // Pages of one: the cursor walks the matches and stops after the last one.
    const first = await paths("ab_", { limit: 1 });
    expect(first.items.map((e) => e.path)).toEqual(["ab_c"]);
    const second = await paths("ab_", { limit: 1, cursor: first.nextCursor });
    expect(second.items.map((e) => e.path)).toEqual(["ab_c/1.txt"]);
    expect(second.nextCursor).toBeNull();
  });
});

/** GET /api/cron/retention with a raw Authorization header (latin-1 bytes on the wire, as a client may send them). */
function cronWith(baseUrl: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/api/cron/retention?dryRun=true`, { headers: { authorization } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("cron secret", () => {
  const second = inject("second");

  it("answers 401 (not 500) to a non-ASCII secret of the right length, and 200 to the right one", async () => {
    const wrong = `Bearer ${CRON_SECRET_FOR_TESTS.slice(0, -1)}\u00e9`;
    expect(wrong.length).toBe(`Bearer ${CRON_SECRET_FOR_TESTS}`.length);
    const refused = await cronWith(second.baseUrl, wrong);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatch(/unauthorized/);
    expect((await cronWith(second.baseUrl, `Bearer ${CRON_SECRET_FOR_TESTS}x`)).status).toBe(401);
    expect((await cronWith(second.baseUrl, `Bearer ${CRON_SECRET_FOR_TESTS}`)).status).toBe(200);
  });
});
