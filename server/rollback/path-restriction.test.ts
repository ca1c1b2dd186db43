import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addComponent,
  assertCliBundleFresh,
  cleanUpAfterEach,
  journalFiles,
  openWorkspace,
  readTree,
  rollbackTo,
  runCli,
  TEST_ACTOR,
  writeTree,
  type Workspace,
} from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { findCheckpointRow } from "../checkpoints/queries";
import { getComponent } from "../registry/components";
import { InvalidInputError } from "../errors";
import { computePlanForCheckpoint, planRollback } from "./preview";
import { executeRollback } from "./execute";
import { recoverInterruptedRollbacks } from "./recover";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const read = (ws: Workspace, rel: string) => fs.readFileSync(path.join(ws.root, rel), "utf8");

async function project(): Promise<{ ws: Workspace; checkpointId: string }> {
  const ws = openWorkspace();
  writeTree(ws.root, { "src/a.ts": "a v1\n", "src/b.ts": "b v1\n", "src/lib/c.ts": "c v1\n", "README.md": "readme v1\n" });
  await addComponent(ws);
  const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
  // An agent changes everything afterwards.
  writeTree(ws.root, { "src/a.ts": "a v2\n", "src/b.ts": "b v2\n", "src/lib/c.ts": "c v2\n", "src/lib/new.ts": "new\n", "README.md": "readme v2\n", "notes.txt": "new\n" });
  return { ws, checkpointId: checkpoint.id };
}

function refusal(error: unknown): { field?: unknown; message: string } {
  expect(error).toBeInstanceOf(InvalidInputError);
  const e = error as InvalidInputError;
  return { field: e.details.field, message: e.message };
}

describe("a rollback restricted to some paths", () => {
  it("plans only those paths: a file is written, a folder's files are written and what was created in it is deleted", async () => {
    const { ws, checkpointId } = await project();
    const plan = await computePlanForCheckpoint(ws.core, checkpointId, { paths: ["src/a.ts", "./src/lib/"] });
    expect(plan.paths).toEqual(["src/a.ts", "src/lib"]);
    expect(plan.restore.map((r) => r.path).sort()).toEqual(["src/a.ts", "src/lib/c.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(["src/lib/new.ts"]);
    expect(plan.databases).toEqual([]);
    expect(plan.scope.restrictedTo).toEqual(["src/a.ts", "src/lib"]);
  });

  it("restores exactly those paths, leaves everything else as it is, takes a safety checkpoint of those paths only, and its undo puts back exactly them", async () => {
    const { ws, checkpointId } = await project();
    const metadataBefore = (await getComponent(ws.core, "app")).metadata;
    const result = await rollbackTo(ws.core, checkpointId, { paths: ["src/a.ts", "src/lib"] });
    expect(result).toMatchObject({ outcome: "succeeded", restored: 2, deleted: 1, paths: ["src/a.ts", "src/lib"] });
    expect(read(ws, "src/a.ts")).toBe("a v1\n");
    expect(read(ws, "src/lib/c.ts")).toBe("c v1\n");
    expect(fs.existsSync(path.join(ws.root, "src/lib/new.ts"))).toBe(false);
    // Outside the paths: untouched.
    expect(read(ws, "src/b.ts")).toBe("b v2\n");
    expect(read(ws, "README.md")).toBe("readme v2\n");
    expect(read(ws, "notes.txt")).toBe("new\n");
    // The component's metadata document is no path: neither put back nor marked rolled back.
    expect((await getComponent(ws.core, "app")).metadata).toEqual(metadataBefore);
    expect(journalFiles(ws.dataDir)).toEqual([]);

    const safety = await findCheckpointRow(ws.core, result.safetyCheckpointId as string);
    expect(safety.kind).toBe("safety");
    expect(safety.paths).toEqual(["src/a.ts", "src/lib"]);

    // Meanwhile something else changes: undoing the partial rollback must not touch it.
    writeTree(ws.root, { "src/b.ts": "b v3\n" });
    const undo = await rollbackTo(ws.core, safety.id);
    expect(undo.outcome).toBe("succeeded");
    expect(read(ws, "src/a.ts")).toBe("a v2\n");
    expect(read(ws, "src/lib/c.ts")).toBe("c v2\n");
    expect(read(ws, "src/lib/new.ts")).toBe("new\n");
    expect(read(ws, "src/b.ts")).toBe("b v3\n");
  });

  it("deletes a path the checkpoint does not hold but the workspace does", async () => {
    const { ws, checkpointId } = await project();
    const before = readTree(ws.root);
    const result = await rollbackTo(ws.core, checkpointId, { paths: ["notes.txt"] });
    expect(result).toMatchObject({ restored: 0, deleted: 1 });
    const after = readTree(ws.root);
    expect(after.has("notes.txt")).toBe(false);
    for (const [p, v] of before) if (p !== "notes.txt") expect(after.get(p)).toEqual(v);
  });

  it("refuses paths that escape, name nothing, or lie outside a partial checkpoint's scope, naming the field", async () => {
    const { ws, checkpointId } = await project();
    const cases: [string[], string, RegExp][] = [
      [["src/a.ts", "../etc/passwd"], "paths.1", /\.\./],
      [["/etc/passwd"], "paths.0", /path/],
      [["src/a.ts", "src/nothing-here.ts"], "paths.1", /neither in checkpoint/],
    ];
    for (const [paths, field, message] of cases) {
      const error = await computePlanForCheckpoint(ws.core, checkpointId, { paths }).catch((e: unknown) => e);
      expect(refusal(error)).toMatchObject({ field });
      expect(refusal(error).message).toMatch(message);
    }
    const partial = await createCheckpoint(ws.core, { component: "app", paths: ["src/lib"] }, TEST_ACTOR);
    const outside = await computePlanForCheckpoint(ws.core, partial.id, { paths: ["README.md"] }).catch((e: unknown) => e);
    expect(refusal(outside)).toMatchObject({ field: "paths.0" });
    expect(refusal(outside).message).toMatch(/outside the scope/);
  });

  it("intersects the paths with a partial checkpoint's scope: a folder above it stands for the scope's paths in it", async () => {
    const { ws } = await project();
    const partial = await createCheckpoint(ws.core, { component: "app", paths: ["src/lib"] }, TEST_ACTOR);
    writeTree(ws.root, { "src/lib/c.ts": "c v3\n", "src/a.ts": "a v3\n" });
    const plan = await computePlanForCheckpoint(ws.core, partial.id, { paths: ["src"] });
    expect(plan.paths).toEqual(["src/lib"]);
    expect(plan.restore.map((r) => r.path)).toEqual(["src/lib/c.ts"]);
    await rollbackTo(ws.core, partial.id, { paths: ["src"] });
    expect(read(ws, "src/lib/c.ts")).toBe("c v2\n");
    expect(read(ws, "src/a.ts")).toBe("a v3\n");
  });

  it("binds the confirm token to the paths: a token for one path does not confirm a rollback of others or of everything", async () => {
    const { ws, checkpointId } = await project();
    const plan = await planRollback(ws.core, checkpointId, TEST_ACTOR, { paths: ["src/a.ts"] });
    const whole = await executeRollback(ws.core, { checkpointId, confirmToken: plan.confirmToken }, TEST_ACTOR).catch((e: unknown) => e);
    expect(refusal(whole)).toMatchObject({ field: "confirmToken" });
    expect(read(ws, "src/b.ts")).toBe("b v2\n");
    const again = await planRollback(ws.core, checkpointId, TEST_ACTOR, { paths: ["src/a.ts"] });
    const result = await executeRollback(ws.core, { checkpointId, confirmToken: again.confirmToken, paths: ["src/a.ts"] }, TEST_ACTOR);
    expect(result).toMatchObject({ outcome: "succeeded", restored: 1, paths: ["src/a.ts"] });
    expect(read(ws, "src/a.ts")).toBe("a v1\n");
    expect(read(ws, "src/b.ts")).toBe("b v2\n");
  });

  it("a path whose unrelated sibling changes after the plan still confirms (the token covers the paths only)", async () => {
    const { ws, checkpointId } = await project();
    const plan = await planRollback(ws.core, checkpointId, TEST_ACTOR, { paths: ["src/a.ts"] });
    writeTree(ws.root, { "README.md": "readme v3\n" });
    const result = await executeRollback(ws.core, { checkpointId, confirmToken: plan.confirmToken, paths: ["src/a.ts"] }, TEST_ACTOR);
    expect(result.restored).toBe(1);
    expect(read(ws, "README.md")).toBe("readme v3\n");
  });

  it("a rollback of some paths that crashed part-way is completed over those paths only", async () => {
    const ws = openWorkspace();
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`src/f${i}.ts`, `v1 ${i}\n`]));
    writeTree(ws.root, { ...files, "README.md": "readme v1\n", "lib/x.ts": "x v1\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    writeTree(ws.root, { ...Object.fromEntries(Object.keys(files).map((p) => [p, "v2\n"])), "README.md": "readme v2\n", "lib/x.ts": "x v2\n" });

    const crashed = await runCli(ws, ["rollback", checkpoint.id, "--path", "src", "--yes"], { fault: { after: 3, under: ws.root } });
    expect(crashed.signal, `${crashed.stdout}\n${crashed.stderr}`).toBe("SIGKILL");
    expect(journalFiles(ws.dataDir)).toHaveLength(1);

    const recovered = await recoverInterruptedRollbacks(ws.core, TEST_ACTOR);
    expect(recovered).toEqual([expect.objectContaining({ checkpointId: checkpoint.id, outcome: "recovered" })]);
    for (const [p, content] of Object.entries(files)) expect(read(ws, p)).toBe(content);
    // Outside the paths: what the agent left, never the checkpoint's.
    expect(read(ws, "README.md")).toBe("readme v2\n");
    expect(read(ws, "lib/x.ts")).toBe("x v2\n");
    expect(journalFiles(ws.dataDir)).toEqual([]);
  });
});
