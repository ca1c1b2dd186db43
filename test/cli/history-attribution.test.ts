/**
 * `safetynet history --agent / --task`: the events of one agent's or one task's
 * checkpoints, each saying what it was about (reason, agent, task, session).
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs } from "../support/workspace";
import type { HistoryPage } from "../../server/audit/history";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("safetynet history", () => {
  it("--agent and --task narrow the history to the events of those checkpoints, exactly", async () => {
    const ws = makeWorkspaceDirs("cli-history-attribution");
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "one\n");
    const first = await cliJson<{ id: string }>(ws, ["checkpoint", "create", "web", "--agent", "claude-code", "--task", "T-1", "--reason", "before step 1"]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    const second = await cliJson<{ id: string }>(ws, ["checkpoint", "create", "web", "--agent", "cursor", "--meta", "task=T-2"]);

    const byTask = await cliJson<HistoryPage>(ws, ["history", "web", "--task", "T-1"]);
    expect(byTask.items.map((i) => [i.kind, i.checkpointId, i.reason, i.agent, i.task, i.session])).toEqual([["checkpoint.create", first.id, "before step 1", "claude-code", "T-1", "web/T-1"]]);
    const byAgent = await cliJson<HistoryPage>(ws, ["history", "--agent", "cursor"]);
    expect(byAgent.items.map((i) => [i.checkpointId, i.task, i.session])).toEqual([[second.id, "T-2", "web/T-2"]]);
    expect((await cliJson<HistoryPage>(ws, ["history", "--agent", "cursor", "--task", "T-1"])).items).toEqual([]);
  }, 240_000);
});
