/**
 * `safetynet rollback <id> --path <p>...`: the plan shows only those paths, the
 * rollback restores only them (everything else stays), bad paths exit 2 naming
 * `paths.<index>`, and without a terminal it still needs --yes.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, runCli, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { RollbackResult } from "../../server/rollback/execute";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

type RollbackJson = Omit<RollbackResult, "restoredPaths" | "deletedPaths"> & { restoredPaths: string[]; deletedPaths: string[] };
const read = (ws: WorkspaceDirs, rel: string) => fs.readFileSync(path.join(ws.root, rel), "utf8");

async function changedProject(label: string): Promise<{ ws: WorkspaceDirs; created: CheckpointCreated }> {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "src/app.ts": "app v1\n", "src/util/math.ts": "math v1\n", "README.md": "readme v1\n" });
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
  writeTree(ws.root, { "src/app.ts": "app v2\n", "src/util/math.ts": "math v2\n", "src/util/extra.ts": "new\n", "README.md": "readme v2\n" });
  return { ws, created };
}

describe("safetynet rollback --path", () => {
  it("--dry-run prints the plan of those paths only", async () => {
    const { ws, created } = await changedProject("paths-dry");
    const plan = await cliJson<{ restore: { path: string }[]; delete: { path: string }[]; paths: string[] }>(ws, ["rollback", created.id, "--path", "src/util", "--dry-run"]);
    expect(plan.paths).toEqual(["src/util"]);
    expect(plan.restore.map((r) => r.path)).toEqual(["src/util/math.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(["src/util/extra.ts"]);
    const human = await runCli(ws, ["rollback", created.id, "--path", "src/util", "--dry-run"]);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain("Only the path src/util");
    expect(human.stdout).toContain("src/util/math.ts");
    expect(human.stdout).not.toContain("src/app.ts");
    expect(read(ws, "src/util/math.ts")).toBe("math v2\n");
  });

  it("restores only the paths given (repeatable), leaves the rest, and prints how to undo", async () => {
    const { ws, created } = await changedProject("paths-run");
    const result = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--path", "src/app.ts", "--path", "src/util/extra.ts", "--yes"]);
    expect(result).toMatchObject({ outcome: "succeeded", restored: 1, deleted: 1, paths: ["src/app.ts", "src/util/extra.ts"] });
    expect(result.restoredPaths).toEqual(["src/app.ts"]);
    expect(read(ws, "src/app.ts")).toBe("app v1\n");
    expect(fs.existsSync(path.join(ws.root, "src/util/extra.ts"))).toBe(false);
    expect(read(ws, "src/util/math.ts")).toBe("math v2\n");
    expect(read(ws, "README.md")).toBe("readme v2\n");

    writeTree(ws.root, { "src/app.ts": "app v3\n" });
    const human = await runCli(ws, ["rollback", created.id, "--path", "src/app.ts", "--yes"]);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain("rolled back src/app.ts of web");
    expect(human.stdout).toMatch(/undo with: safetynet rollback cp_/);
    // The file's history says how to restore one of its versions.
    const log = await runCli(ws, ["log", "web", "src/app.ts"]);
    expect(log.stdout).toContain("restore a version: safetynet rollback <checkpoint> --path src/app.ts");
  });

  it("exits 2 naming paths.<index> for a path that escapes or names nothing, and changes nothing", async () => {
    const { ws, created } = await changedProject("paths-bad");
    for (const [args, field] of [
      [["--path", "src/app.ts", "--path", "../x"], "paths.1"],
      [["--path", "missing.ts"], "paths.0"],
    ] as const) {
      const run = await runCli(ws, ["rollback", created.id, ...args, "--yes", "--json"]);
      expect(run.status, run.stdout + run.stderr).toBe(2);
      const error = (JSON.parse(run.stdout) as CliErrorJson).error;
      expect(error.details?.field).toBe(field);
    }
    expect(read(ws, "src/app.ts")).toBe("app v2\n");
  });

  it("puts back a path the agent made a symlink pointing out of the root (the link is replaced, never followed)", async () => {
    const { ws, created } = await changedProject("paths-link-out");
    const outside = path.join(path.dirname(ws.root), "outside.txt");
    fs.writeFileSync(outside, "not ours\n");
    // Where the checkpoint had a folder, and where it had nothing.
    fs.rmSync(path.join(ws.root, "src/util"), { recursive: true });
    fs.symlinkSync("../../outside.txt", path.join(ws.root, "src/util"));
    fs.symlinkSync("../outside.txt", path.join(ws.root, "escape"));
    const result = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--path", "src/util", "--path", "escape", "--yes"]);
    expect(result).toMatchObject({ outcome: "succeeded", paths: ["escape", "src/util"] });
    expect(fs.lstatSync(path.join(ws.root, "src/util")).isDirectory()).toBe(true);
    expect(read(ws, "src/util/math.ts")).toBe("math v1\n");
    expect(fs.existsSync(path.join(ws.root, "escape"))).toBe(false);
    expect(fs.readFileSync(outside, "utf8")).toBe("not ours\n");
    // Its undo puts the links back as they were, still not followed.
    const undo = await cliJson<RollbackJson>(ws, ["rollback", result.safetyCheckpointId as string, "--yes"]);
    expect(undo.outcome).toBe("succeeded");
    expect(fs.readlinkSync(path.join(ws.root, "src/util"))).toBe("../../outside.txt");
    expect(fs.readlinkSync(path.join(ws.root, "escape"))).toBe("../outside.txt");
    expect(fs.readFileSync(outside, "utf8")).toBe("not ours\n");
  });

  it("refuses without a terminal unless --yes, and changes nothing", async () => {
    const { ws, created } = await changedProject("paths-no-tty");
    const run = await runCli(ws, ["rollback", created.id, "--path", "src/app.ts"]);
    expect(run.status).toBe(2);
    expect(read(ws, "src/app.ts")).toBe("app v2\n");
  });
});
