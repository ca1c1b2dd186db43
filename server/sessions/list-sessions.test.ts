import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, openWorkspace, readTree, rollbackTo, TEST_ACTOR, treeDifferences, writeTree, type Workspace } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import type { CheckpointCreateInput } from "../schemas";
import { InvalidInputError, NotFoundError } from "../errors";
import { listSessions, type SessionView } from "./list-sessions";

cleanUpAfterEach();

/** Takes a checkpoint of `component` with the core's clock at `iso`. */
async function checkpointAt(ws: Workspace, iso: string, input: Omit<CheckpointCreateInput, "component"> & { component?: string } = {}) {
  const previous = ws.core.now;
  ws.core.now = () => new Date(iso);
  try {
    return await createCheckpoint(ws.core, { component: "app", ...input }, TEST_ACTOR);
  } finally {
    ws.core.now = previous;
  }
}

function write(ws: Workspace, rel: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(ws.root, rel)), { recursive: true });
  fs.writeFileSync(path.join(ws.root, rel), content);
}

function remove(ws: Workspace, rel: string): void {
  fs.rmSync(path.join(ws.root, rel), { recursive: true });
}

/** What the list says of each session, in order: task, steps and net changes. */
function summary(items: SessionView[]) {
  return items.map((s) => ({ task: s.task, steps: s.steps, changes: s.changes }));
}

describe("sessions", () => {
  it("groups a component's checkpoints by task, with the agent, steps, net changes, and the first checkpoint to roll back to", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n", "c.txt": "to be deleted\n", "keep.txt": "kept\n" });
    await addComponent(ws);
    await checkpointAt(ws, "2026-05-01T08:00:00.000Z", { reason: "before anything" });
    // The hook takes a checkpoint before each step: the first holds the state before the session.
    const step1 = await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { agent: "claude", task: "S-1" });
    write(ws, "a.txt", "two\n");
    write(ws, "src/b.txt", "new\n");
    const step2 = await checkpointAt(ws, "2026-05-01T09:01:00.000Z", { agent: "claude", task: "S-1" });
    write(ws, "scratch.txt", "temporary\n");
    remove(ws, "c.txt");
    const step3 = await checkpointAt(ws, "2026-05-01T09:02:00.000Z", { agent: "claude", metadata: { task: "S-1" } });
    // The last step: the scratch file goes again; its changes are recorded by the next checkpoint, whoever takes it.
    remove(ws, "scratch.txt");
    write(ws, "a.txt", "three\n");
    const after = await checkpointAt(ws, "2026-05-01T10:00:00.000Z", { reason: "after the session" });

    const page = await listSessions(ws.core, { component: "app" });

    expect(page.nextCursor).toBeNull();
    expect(page.items).toEqual([
      {
        component: "app",
        task: "S-1",
        agent: "claude",
        startedAt: "2026-05-01T09:00:00.000Z",
        lastAt: "2026-05-01T09:02:00.000Z",
        steps: 3,
        // a.txt modified twice: once; src/b.txt added; c.txt deleted; scratch.txt added and deleted again: nothing.
        changes: { added: 1, modified: 1, deleted: 1 },
        firstCheckpointId: step1.id,
        lastCheckpointId: step3.id,
        rollbackTo: step1.id,
        closedBy: after.id,
        cursor: expect.any(String),
      },
    ]);
    expect(step2.id).not.toBe(step1.id);
  });

  it("counts an open session's changes up to its last checkpoint, and a path changed and changed back as unchanged", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n", "b.txt": "bee\n" });
    await addComponent(ws);
    await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { task: "S-2" });
    write(ws, "a.txt", "changed\n");
    write(ws, "b.txt", "changed too\n");
    await checkpointAt(ws, "2026-05-01T09:01:00.000Z", { task: "S-2" });
    write(ws, "a.txt", "one\n");
    const last = await checkpointAt(ws, "2026-05-01T09:02:00.000Z", { task: "S-2" });
    // A step after the last checkpoint is not seen until a checkpoint records it.
    write(ws, "c.txt", "unseen\n");

    const [session] = (await listSessions(ws.core, { component: "app" })).items;

    expect(session).toMatchObject({ task: "S-2", steps: 3, changes: { added: 0, modified: 1, deleted: 0 }, lastCheckpointId: last.id, closedBy: null, agent: null });
  });

  it("lists the latest activity first and pages through every session once", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws);
    await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { task: "old" });
    await checkpointAt(ws, "2026-05-02T09:00:00.000Z", { task: "middle" });
    await checkpointAt(ws, "2026-05-03T09:00:00.000Z", { task: "new" });
    // A later step of the oldest session makes it the latest activity.
    await checkpointAt(ws, "2026-05-04T09:00:00.000Z", { task: "old" });
    // Three sessions whose last steps share one instant: a page boundary may fall between them.
    await checkpointAt(ws, "2026-05-05T09:00:00.000Z", { task: "tie-b" });
    await checkpointAt(ws, "2026-05-05T09:00:00.000Z", { task: "tie-a" });
    await checkpointAt(ws, "2026-05-05T09:00:00.000Z", { task: "tie-c" });
    await checkpointAt(ws, "2026-05-06T09:00:00.000Z", { reason: "no task: in no session" });

    const all = (await listSessions(ws.core, { component: "app" })).items.map((s) => s.task);
    expect(all.slice(0, 3).sort()).toEqual(["tie-a", "tie-b", "tie-c"]);
    expect(all.slice(3)).toEqual(["old", "new", "middle"]);
    expect((await listSessions(ws.core, { component: "app" })).items.find((s) => s.task === "old")).toMatchObject({
      steps: 2,
      startedAt: "2026-05-01T09:00:00.000Z",
      lastAt: "2026-05-04T09:00:00.000Z",
    });

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listSessions(ws.core, { component: "app", limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((s) => s.task));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);

    // Each session's own cursor resumes right after it (a client that showed part of a page goes on from there), ties included.
    const whole = (await listSessions(ws.core, { component: "app" })).items;
    for (const [n, session] of whole.entries()) {
      const after = await listSessions(ws.core, { component: "app", cursor: session.cursor });
      expect(after.items.map((s) => s.task)).toEqual(all.slice(n + 1));
    }
  });

  it("keeps components apart: one task on two components is two sessions, and a component filter shows only its own", async () => {
    const ws = openWorkspace();
    const otherRoot = path.join(ws.base, "other");
    writeTree(ws.root, { "a.txt": "a\n" });
    writeTree(otherRoot, { "x.txt": "x\n" });
    await addComponent(ws);
    await addComponent({ ...ws, root: otherRoot }, { name: "other" });
    await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { task: "shared" });
    await checkpointAt(ws, "2026-05-01T09:05:00.000Z", { component: "other", task: "shared" });
    await checkpointAt(ws, "2026-05-01T09:06:00.000Z", { component: "other", task: "shared" });

    expect((await listSessions(ws.core, {})).items.map((s) => [s.component, s.task, s.steps])).toEqual([
      ["other", "shared", 2],
      ["app", "shared", 1],
    ]);
    expect(summary((await listSessions(ws.core, { component: "app" })).items)).toEqual([{ task: "shared", steps: 1, changes: { added: 0, modified: 0, deleted: 0 } }]);
  });

  it("leaves deleted checkpoints out, and offers no rollback when the first checkpoint has expired", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws);
    const first = await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { task: "S-3" });
    const second = await checkpointAt(ws, "2026-05-01T09:01:00.000Z", { task: "S-3" });
    const third = await checkpointAt(ws, "2026-05-01T09:02:00.000Z", { task: "S-3" });
    await ws.core.db.checkpoint.update({ where: { id: third.id }, data: { status: "deleted" } });
    await ws.core.db.checkpoint.update({ where: { id: first.id }, data: { status: "expired" } });

    const [session] = (await listSessions(ws.core, { component: "app" })).items;

    expect(session).toMatchObject({ steps: 2, firstCheckpointId: first.id, lastCheckpointId: second.id, rollbackTo: null });
  });

  it("rolling back to rollbackTo puts the component back as it was before the session's first step", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "before\n", "gone.txt": "will be deleted\n" });
    await addComponent(ws);
    const before = readTree(ws.root);
    await checkpointAt(ws, "2026-05-01T09:00:00.000Z", { task: "S-4" });
    write(ws, "a.txt", "after step 1\n");
    await checkpointAt(ws, "2026-05-01T09:01:00.000Z", { task: "S-4" });
    remove(ws, "gone.txt");
    write(ws, "new/file.txt", "added by step 2\n");

    const [session] = (await listSessions(ws.core, { component: "app" })).items;
    await rollbackTo(ws.core, session?.rollbackTo as string);

    expect(treeDifferences(before, readTree(ws.root))).toEqual([]);
    // The rollback's safety checkpoint recorded the last step: the session's changes now include it.
    const [again] = (await listSessions(ws.core, { component: "app" })).items;
    expect(again).toMatchObject({ task: "S-4", steps: 2, changes: { added: 1, modified: 1, deleted: 1 } });
    expect(again?.closedBy).not.toBeNull();
  });

  it("refuses an unknown component and a cursor it did not make, naming the field", async () => {
    const ws = openWorkspace();
    await expect(listSessions(ws.core, { component: "nope" })).rejects.toBeInstanceOf(NotFoundError);
    const error = await listSessions(ws.core, { cursor: "bm90LWEtY3Vyc29y" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toMatchObject({ field: "cursor" });
  });
});
