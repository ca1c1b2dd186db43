import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, openWorkspace, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { csvField, exportHistory, formulaSafe, HISTORY_CSV_COLUMNS } from "./history-export";
import { listHistory, recordEvent, type HistoryItem } from "./history";

cleanUpAfterEach();

function item(id: string, extra: Partial<HistoryItem> = {}): HistoryItem {
  return {
    id,
    kind: "rollback",
    component: "web",
    checkpointId: "cp_1",
    actor: "token:build-bot",
    outcome: "failed",
    startedAt: "2026-03-03T08:00:00.000Z",
    durationMs: 12,
    files: null,
    bytes: 5,
    checksum: null,
    rollbackFailure: null,
    undoOf: null,
    undoneBy: null,
    error: 'refused: "quoted", comma, and\nnewline',
    details: { rollbackId: "rb_1" },
    reason: "before the refactor",
    agent: "claude",
    task: "T-7",
    session: "web/T-7",
    rollbackId: "rb_1",
    ...extra,
  };
}

async function text(chunks: AsyncGenerator<string>): Promise<string> {
  let out = "";
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe("history export", () => {
  it("quotes CSV fields that need it (RFC 4180) and writes details as JSON", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField(null)).toBe("");
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
  });

  it("neutralises text cells a spreadsheet would run as a formula, and leaves other cells and numbers alone", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) expect(formulaSafe(`${start}1+1`)).toBe(`'${start}1+1`);
    expect(formulaSafe("safe = text")).toBe("safe = text");
    expect(csvField('=HYPERLINK("http://evil.example","click")')).toBe('"\'=HYPERLINK(""http://evil.example"",""click"")"');
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\tcmd")).toBe("'\tcmd");
    expect(csvField("\rcmd")).toBe('"\'\rcmd"');
    expect(csvField(-5)).toBe("-5");
    const row = exportHistory("csv", {
      first: { items: [item("ev_9", { reason: "=cmd|' /C calc'!A0", agent: "+agent", task: "-T", session: "web/-T" })], nextCursor: null },
      next: async () => ({ items: [], nextCursor: null }),
      filters: {},
      exportedAt: new Date(0),
    });
    return (async () => {
      let out = "";
      for await (const chunk of row) out += chunk;
      expect(out).toContain(",'=cmd|' /C calc'!A0,'+agent,'-T,web/-T,");
    })();
  });

  it("writes every page, in order, as CSV and as JSON", async () => {
    const pages = {
      first: { items: [item("ev_3"), item("ev_2")], nextCursor: "ev_2" },
      next: async (cursor: string) => {
        expect(cursor).toBe("ev_2");
        return { items: [item("ev_1", { error: null, outcome: "succeeded" })], nextCursor: null };
      },
      filters: { component: "web" },
      exportedAt: new Date("2026-03-04T00:00:00.000Z"),
    };
    const csv = await text(exportHistory("csv", pages));
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(HISTORY_CSV_COLUMNS.join(","));
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(lines[0]).toBe("id,startedAt,kind,outcome,actor,component,checkpointId,rollbackId,reason,agent,task,session,durationMs,files,bytes,checksum,error,details");
    expect(csv).toContain('ev_3,2026-03-03T08:00:00.000Z,rollback,failed,token:build-bot,web,cp_1,rb_1,before the refactor,claude,T-7,web/T-7,12,,5,,"refused: ""quoted"", comma, and\nnewline","{""rollbackId"":""rb_1""}"\r\n');
    expect(csv.indexOf("ev_3")).toBeLessThan(csv.indexOf("ev_2"));
    expect(csv.indexOf("ev_2")).toBeLessThan(csv.indexOf("ev_1"));

    const json = JSON.parse(await text(exportHistory("json", pages))) as { exportedAt: string; filters: unknown; items: HistoryItem[] };
    expect(json.exportedAt).toBe("2026-03-04T00:00:00.000Z");
    expect(json.filters).toEqual({ component: "web" });
    expect(json.items.map((i) => i.id)).toEqual(["ev_3", "ev_2", "ev_1"]);
    expect(json.items[0]).toEqual(item("ev_3"));
  });

  it("writes a valid empty document when nothing matches", async () => {
    const empty = { first: { items: [], nextCursor: null }, next: async () => ({ items: [], nextCursor: null }), filters: {}, exportedAt: new Date(0) };
    expect(JSON.parse(await text(exportHistory("json", empty)))).toEqual({ exportedAt: new Date(0).toISOString(), filters: {}, items: [] });
    expect(await text(exportHistory("csv", empty))).toBe(HISTORY_CSV_COLUMNS.join(",") + "\r\n");
  });
});

describe("history actor filter", () => {
  it("matches any part of the actor, case-insensitively, and treats _ and % as plain characters", async () => {
    const ws = openWorkspace();
    const record = (actor: string) => recordEvent(ws.core, { kind: "component.upsert", actor, outcome: "succeeded", startedAt: ws.core.now(), durationMs: 0 });
    for (const actor of ["token:build-bot", "token:build_bot", "token:buildXbot", "cli:alice", "token:100%", "token:100x", TEST_ACTOR]) await record(actor);
    const actors = async (actor: string, limit?: number) => (await listHistory(ws.core, { actor, limit })).items.map((i) => i.actor).sort();

    expect(await actors("build-bot")).toEqual(["token:build-bot"]);
    expect(await actors("BUILD")).toEqual(["token:build-bot", "token:buildXbot", "token:build_bot"]);
    expect(await actors("build_bot")).toEqual(["token:build_bot"]);
    expect(await actors("100%")).toEqual(["token:100%"]);
    // An exact re-check keeps pages full and the cursor right.
    const first = await listHistory(ws.core, { actor: "_", limit: 1 });
    expect(first.items.map((i) => i.actor)).toEqual(["token:build_bot"]);
    expect(first.nextCursor).toBeNull();
  });
});

describe("history attribution", () => {
  it("reads an older event's agent and task from the checkpoint it names, and filters by them", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws, { name: "app" });
    const tagged = await createCheckpoint(ws.core, { component: "app", agent: "claude", task: "T-1", reason: "before" }, TEST_ACTOR);
    const other = await createCheckpoint(ws.core, { component: "app", agent: "cursor", task: "T-2" }, TEST_ACTOR);
    // An event written before events carried their agent and task: only the checkpoint knows them.
    for (const id of [tagged.id, other.id]) {
      await recordEvent(ws.core, { kind: "checkpoint.pin", component: "app", checkpointId: id, actor: TEST_ACTOR, outcome: "succeeded", startedAt: ws.core.now(), durationMs: 0, details: { pinned: true } });
    }
    const pins = async (filter: { agent?: string; task?: string }) =>
      (await listHistory(ws.core, { kind: "checkpoint.pin", ...filter })).items.map((i) => [i.checkpointId, i.agent, i.task, i.session, i.reason]);
    expect(await pins({ task: "T-1" })).toEqual([[tagged.id, "claude", "T-1", "app/T-1", "before"]]);
    expect(await pins({ agent: "cursor" })).toEqual([[other.id, "cursor", "T-2", "app/T-2", null]]);
    expect(await pins({ agent: "claude", task: "T-2" })).toEqual([]);
    expect(await pins({ task: "t-1" })).toEqual([]);
  });
});
