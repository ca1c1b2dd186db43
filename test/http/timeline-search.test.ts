/**
 * The console's timeline search (component.timeline with q) finds what the operator
 * typed, `_` and `%` included: SQL LIKE reads both as wildcards, so "task_7" must
 * not also find "task-7", and "50%" must not find "500". Pages stay full and in
 * order while the search reads past rows that only LIKE matched.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface TimelinePage {
  items: { type: string; checkpoint?: { reason: string | null }; rollback?: { checkpointId: string } }[];
  nextCursor: string | null;
}

describe("timeline search", () => {
  let name: string;

  beforeAll(async () => {
    const component = await makeComponent(admin, server.workspace, { "a.txt": "one\n" });
    name = component.name;
    const reasons = ["task_7 first", "task-7 lookalike", "taskX7 lookalike", "50% of the migration", "500 files moved", "TASK_7 second", "before task_7 third"];
    for (const [i, reason] of reasons.entries()) {
      writeFileSync(path.join(component.root, "a.txt"), `version ${i}\n`);
      await admin.call("checkpoint.create", { component: name, reason });
    }
    await admin.call("checkpoint.create", { component: name, reason: "agent run", agent: "bot_alpha", task: "T-1" });
    await admin.call("checkpoint.create", { component: name, reason: "agent run", agent: "botXalpha", task: "T-2" });
  });

  const reasons = (page: TimelinePage) => page.items.map((item) => item.checkpoint?.reason);

  it("treats _ and % as the characters typed, case-insensitively, in reasons and agent names", async () => {
    const search = (q: string) => admin.get<TimelinePage>("component.timeline", { component: name, q });
    expect(reasons(await search("task_7"))).toEqual(["before task_7 third", "TASK_7 second", "task_7 first"]);
    expect(reasons(await search("50%"))).toEqual(["50% of the migration"]);
    expect(reasons(await search("%"))).toEqual(["50% of the migration"]);
    expect(reasons(await search("task-7"))).toEqual(["task-7 lookalike"]);
    const byAgent = await search("bot_alpha");
    expect(byAgent.items).toHaveLength(1);
    expect(byAgent.items[0]?.checkpoint).toMatchObject({ callerMeta: { agent: "bot_alpha" } });
  });

  it("fills each page and pages on with the cursor while it reads past rows only LIKE matched", async () => {
    const seen: (string | null | undefined)[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page: TimelinePage = await admin.get<TimelinePage>("component.timeline", { component: name, q: "_7", limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...reasons(page));
      if (!page.nextCursor) break;
      expect(page.items).toHaveLength(2);
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(["before task_7 third", "TASK_7 second", "task_7 first"]);
  });
});
