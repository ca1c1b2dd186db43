/**
 * The official tRPC client, as a TypeScript agent would write it: createTRPCClient
 * with httpBatchLink's defaults (no maxItems, no maxURLLength, no transformer),
 * typed by the server's own AppRouter. Whatever it does on the wire — every call
 * made in the same tick in one request, queries as one GET with all inputs in
 * the URL — must work against the server.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { AppRouter } from "../../server/api/root";
import { Api, createToken, makeComponent, uniqueName } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface SentRequest {
  method: string;
  url: string;
}

/** A client with the link's defaults; `sent` records every HTTP request it makes (observed, not changed). */
function trpcClient(token: string) {
  const sent: SentRequest[] = [];
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${server.baseUrl}/api/trpc`,
        headers: { authorization: `Bearer ${token}` },
        fetch: (input, init) => {
          sent.push({ method: init?.method ?? "GET", url: String(input) });
          return fetch(input, init);
        },
      }),
    ],
  });
  return { client, sent };
}

/** The calls one batched request carried (`/api/trpc/a,b,c?batch=1`). */
function callsIn(request: SentRequest): number {
  const url = new URL(request.url);
  expect(url.searchParams.get("batch")).toBe("1");
  return decodeURIComponent(url.pathname.slice("/api/trpc/".length)).split(",").length;
}

/** What the server answered, as @trpc/client reports it. */
async function refusal(call: Promise<unknown>): Promise<{ message: string; httpStatus: number; field: string | null; details: Record<string, unknown> | null }> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const data = (error as TRPCClientError<AppRouter>).data as { httpStatus: number; field: string | null; details: Record<string, unknown> | null };
  return { message: (error as Error).message, httpStatus: data.httpStatus, field: data.field, details: data.details };
}

describe("@trpc/client with httpBatchLink's defaults", () => {
  it("runs 50 concurrent calls — mutations in one POST, queries in one GET whose URL is over 16 KiB — and every one succeeds", async () => {
    const operator = trpcClient(server.adminToken);
    const prefix = uniqueName("batch50");
    const names = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
    const roots = names.map((name) => path.join(server.workspace, name));
    for (const root of roots) {
      mkdirSync(path.join(root, "src"), { recursive: true });
      writeFileSync(path.join(root, "src", "app.ts"), `export const name = ${JSON.stringify(root)};\n`);
    }

    const registered = await Promise.all(names.map((name, i) => operator.client.component.upsert.mutate({ name, root: roots[i] as string })));
    expect(registered.map((c) => c.name)).toEqual(names);
    expect(operator.sent).toHaveLength(1);
    expect(operator.sent[0]?.method).toBe("POST");
    expect(callsIn(operator.sent[0] as SentRequest)).toBe(50);

    const agentToken = (await createToken(admin, "agent", names)).token;
    const agent = trpcClient(agentToken);
    const created = await Promise.all(names.map((component) => agent.client.checkpoint.create.mutate({ component, reason: "batched" })));
    expect(created.map((c) => [c.component, c.files])).toEqual(names.map((name) => [name, 1]));
    expect(agent.sent).toHaveLength(1);
    expect(callsIn(agent.sent[0] as SentRequest)).toBe(50);

    // Long inputs, as file.history takes them: the link puts all 50 in one GET URL.
    const deepPath = `src/${"nested-folder/".repeat(24)}app.ts`;
    const histories = await Promise.all(names.map((component) => agent.client.file.history.query({ component, path: deepPath, limit: 5 })));
    expect(histories.map((h) => [h.component, h.path, h.items])).toEqual(names.map((name) => [name, deepPath, []]));
    const get = agent.sent[1] as SentRequest;
    expect(agent.sent).toHaveLength(2);
    expect(get.method).toBe("GET");
    expect(callsIn(get)).toBe(50);
    expect(get.url.length).toBeGreaterThan(16 * 1024);

    const firstCheckpoints = await Promise.all(names.map((component) => agent.client.file.history.query({ component, path: "src/app.ts" })));
    expect(firstCheckpoints.map((h) => h.items.map((item) => [item.checkpointId, item.change]))).toEqual(created.map((c) => [[c.id, "present"]]));
  });

  it("splits nothing and refuses nothing up to the server's cap: 100 queries at once in one request", async () => {
    const viewer = trpcClient((await createToken(admin, "viewer")).token);
    const answers = await Promise.all(Array.from({ length: 100 }, () => viewer.client.auth.whoami.query()));
    expect(new Set(answers.map((a) => a.role))).toEqual(new Set(["viewer"]));
    expect(viewer.sent.map(callsIn)).toEqual([100]);
  });
});

describe("a token scoped to several components, through @trpc/client", () => {
  let inScope: { name: string; root: string }[];
  let outside: { name: string; root: string };
  let checkpointOf: Record<string, string>;
  let viewer: ReturnType<typeof trpcClient>["client"];

  beforeAll(async () => {
    const operator = trpcClient(server.adminToken).client;
    inScope = [await makeComponent(admin, server.workspace, { "a.txt": "a\n" }), await makeComponent(admin, server.workspace, { "b.txt": "b\n" })];
    outside = await makeComponent(admin, server.workspace, { "c.txt": "c\n" });
    const created = await Promise.all([...inScope, outside].map((c) => operator.checkpoint.create.mutate({ component: c.name, reason: "scope test" })));
    checkpointOf = Object.fromEntries(created.map((c) => [c.component, c.id]));
    viewer = trpcClient((await createToken(admin, "viewer", inScope.map((c) => c.name))).token).client;
  });

  it("narrows every list to the token's components when no component is named", async () => {
    const scope = inScope.map((c) => c.name).sort();

    const components = await viewer.component.list.query();
    expect(components.items.map((c) => c.name).sort()).toEqual(scope);

    const checkpoints = await viewer.checkpoint.list.query({ limit: 500 });
    expect([...new Set(checkpoints.items.map((c) => c.component))].sort()).toEqual(scope);
    expect(checkpoints.items.map((c) => c.id).sort()).toEqual(scope.map((name) => checkpointOf[name]).sort());

    const history = await viewer.history.list.query({ limit: 500 });
    expect([...new Set(history.items.map((e) => e.component))].sort()).toEqual(scope);
    expect(history.items.filter((e) => e.kind === "checkpoint.create").map((e) => e.checkpointId).sort()).toEqual(scope.map((name) => checkpointOf[name]).sort());

    const retention = await viewer.retention.get.query({});
    expect(retention.effective.map((p) => p.component)).toEqual(scope);

    const stats = await viewer.stats.summary.query();
    expect([...(stats.scope ?? [])].sort()).toEqual(scope);
    expect(stats.totals.components).toBe(2);
    expect(stats.totals.checkpoints).toBe(2);
  });

  it("answers a list filtered to one of its components with that component only", async () => {
    const first = inScope[0] as { name: string };
    const checkpoints = await viewer.checkpoint.list.query({ component: first.name });
    expect(checkpoints.items.map((c) => c.id)).toEqual([checkpointOf[first.name]]);
    const history = await viewer.history.list.query({ component: first.name });
    expect(new Set(history.items.map((e) => e.component))).toEqual(new Set([first.name]));
    const file = await viewer.file.history.query({ component: first.name, path: "a.txt" });
    expect(file.items.map((i) => i.checkpointId)).toEqual([checkpointOf[first.name]]);
  });

  it("refuses (403, naming the component) a filter on a component outside its scope", async () => {
    const calls = [
      viewer.checkpoint.list.query({ component: outside.name }),
      viewer.history.list.query({ component: outside.name }),
      viewer.retention.get.query({ component: outside.name }),
      viewer.file.history.query({ component: outside.name, path: "c.txt" }),
      viewer.component.get.query({ name: outside.name }),
    ];
    for (const call of calls) {
      const refused = await refusal(call);
      expect(refused.httpStatus).toBe(403);
      expect(refused.message).toContain(`this token may not act on component "${outside.name}"`);
      expect(refused.details).toMatchObject({ reason: "scope", component: outside.name });
    }
  });
});

describe("bad input, as @trpc/client reports it", () => {
  it("names the path field of a `..`, absolute or missing path as zod names fields (paths.0, paths.1, path)", async () => {
    const component = await makeComponent(admin, server.workspace, { "src/a.ts": "export {};\n" });
    const agent = trpcClient((await createToken(admin, "agent", [component.name])).token).client;

    const dotdot = await refusal(agent.checkpoint.create.mutate({ component: component.name, paths: ["../x"] }));
    expect(dotdot).toMatchObject({ httpStatus: 400, field: "paths.0" });
    expect(dotdot.message).toBe('invalid paths.0: path must not contain "..": ../x');

    const absolute = await refusal(agent.checkpoint.create.mutate({ component: component.name, paths: ["src/a.ts", "/etc/passwd"] }));
    expect(absolute).toMatchObject({ httpStatus: 400, field: "paths.1" });
    expect(absolute.message).toMatch(/^invalid paths\.1: .*absolute path: \/etc\/passwd$/);

    const missing = await refusal(agent.checkpoint.create.mutate({ component: component.name, paths: ["src/a.ts", "src/missing.ts"] }));
    expect(missing).toMatchObject({ httpStatus: 400, field: "paths.1" });

    const history = await refusal(agent.file.history.query({ component: component.name, path: "src/../../x" }));
    expect(history).toMatchObject({ httpStatus: 400, field: "path" });
    expect(history.message).toBe('invalid path: path must not contain "..": src/../../x');

    // The schema's own checks name the field the same way.
    const nul = await refusal(agent.checkpoint.create.mutate({ component: component.name, paths: ["a\0b"] }));
    expect(nul).toMatchObject({ httpStatus: 400, field: "paths.0" });
    expect((await agent.checkpoint.list.query({ component: component.name })).items).toEqual([]);
  });
});

describe("rollback through @trpc/client", () => {
  it("plans, shows what will change, and executes with the plan's confirmToken", async () => {
    const component = await makeComponent(admin, server.workspace, { "src/login.ts": "export const login = 1;\n", "README.md": "hello\n" });
    const agent = trpcClient((await createToken(admin, "agent", [component.name])).token).client;
    const checkpoint = await agent.checkpoint.create.mutate({ component: component.name, reason: "before the agent run" });

    writeFileSync(path.join(component.root, "src/login.ts"), "export const login = 2; // broken\n");
    writeFileSync(path.join(component.root, "src/tmp.ts"), "scratch\n");

    const plan = await agent.rollback.plan.mutate({ checkpointId: checkpoint.id });
    expect(plan).toMatchObject({
      checkpointId: checkpoint.id,
      component: component.name,
      restore: [{ path: "src/login.ts", kind: "file", action: "write", size: 24 }],
      delete: [{ path: "src/tmp.ts", kind: "file" }],
      unchanged: 2,
      bytesToWrite: 24,
      confirmToken: expect.stringMatching(/^ct_/),
    });
    expect(Date.parse(plan.expiresAt)).toBeGreaterThan(Date.now());

    const result = await agent.rollback.execute.mutate({ checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
    expect(result).toMatchObject({ checkpointId: checkpoint.id, outcome: "succeeded", restored: 1, deleted: 1, restoredPaths: ["src/login.ts"], deletedPaths: ["src/tmp.ts"] });
    expect(result.safetyCheckpointId).toMatch(/^cp_/);
    expect(readFileSync(path.join(component.root, "src/login.ts"), "utf8")).toBe("export const login = 1;\n");
    expect(existsSync(path.join(component.root, "src/tmp.ts"))).toBe(false);

    // The token is single-use.
    const again = await refusal(agent.rollback.execute.mutate({ checkpointId: checkpoint.id, confirmToken: plan.confirmToken }));
    expect(again.httpStatus).toBe(400);
  });
});
