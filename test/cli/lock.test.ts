import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  inspectData,
  jsonOf,
  makeWorkspaceDirs,
  readTree,
  runCli,
  treeDifferences,
  writeTree,
  type CliErrorJson,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { ComponentView } from "../../server/registry/components";
import { lockComponent } from "../../server/locks";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("one mutating operation per component", () => {
  it("answers checkpoint create and rollback with exit 3 while another operation holds the component, changing nothing; both work once it is done", async () => {
    const ws = makeWorkspaceDirs("cli-lock");
    writeTree(ws.root, { "a.txt": "a\n", "b.txt": "b\n" });
    const component = await cliJson<ComponentView>(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "agent\n");
    const before = readTree(ws.root);
    // Another process (here: this test) is in the middle of an operation on the component.
    const release = await lockComponent(inspectData(ws).locks, component, "rollback");

    try {
      const [create, rollback] = await Promise.all([runCli(ws, ["checkpoint", "create", "web", "--json"]), runCli(ws, ["rollback", created.id, "--yes", "--json"])]);
      for (const result of [create, rollback]) {
        expect(result.status, result.stderr).toBe(3);
        const error = jsonOf<CliErrorJson>(result).error;
        // The refusal names the live holder: what it is doing, its pid and host, and since when.
        expect(error.code).toBe("CONFLICT");
        expect(error.message).toMatch(/^component "web" is locked by another operation in progress: rollback \(pid \d+ on [^,]+, since \d{4}-\d\d-\d\dT[\d:.]+Z\); try again when it finishes$/);
        expect(error.message).toContain(`pid ${process.pid} `);
        expect(error.details).toMatchObject({ lock: 'component "web"', holder: { pid: process.pid, operation: "rollback", processStartedAt: expect.any(String) } });
      }
      expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
      expect(await inspectData(ws).db.checkpoint.count()).toBe(1);
    } finally {
      await release();
    }

    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expect(fs.readFileSync(path.join(ws.root, "a.txt"), "utf8")).toBe("a\n");
  });
});
