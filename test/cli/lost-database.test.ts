/**
 * Losing the database must not lose the store: the CLI refuses to start a new,
 * empty database over a store that holds checkpoints, `safetynet rebuild-db`
 * brings them back, and retention never collects what an unknown record needs.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, inspectData, jsonOf, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree, type CliErrorJson } from "../support/workspace";
import { loseMetadataDatabase, onPostgresPass } from "../support/metadata-store";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

async function componentWithCheckpoints(label: string) {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "a.txt": "a1\n", "src/b.ts": "export const b = 1;\n" });
  await cliJson(ws, ["component", "add", "web", "--root", ws.root, "--exclude", "*.tmp", "--meta", "owner=alice"]);
  const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "first"]);
  const firstTree = readTree(ws.root);
  fs.writeFileSync(path.join(ws.root, "a.txt"), "a2\n");
  const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--path", "src/b.ts"]);
  await cliJson(ws, ["checkpoint", "pin", first.id]);
  return { ws, first, second, firstTree };
}

describe("a deleted database", () => {
  it("is refused at the next command (nothing created over the store), and rebuild-db brings back components, checkpoints and pins", async () => {
    const { ws, first, second, firstTree } = await componentWithCheckpoints("lost-db");
    await loseMetadataDatabase(ws.dataDir);

    const refused = await runCli(ws, ["component", "list", "--json"]);
    expect(refused.status).toBe(1);
    // The SQLite file in the data directory, or the PostgreSQL schema of the metadata database.
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(
      onPostgresPass()
        ? /database .*\?schema=t_\w+ is missing, but the store holds 2 checkpoint record\(s\).*safetynet rebuild-db/
        : /database .*safetynet\.db is missing, but the store holds 2 checkpoint record\(s\).*safetynet rebuild-db/,
    );
    if (!onPostgresPass()) expect(fs.existsSync(path.join(ws.dataDir, "safetynet.db"))).toBe(false);

    const rebuilt = await cliJson<{ checkpoints: number; pinned: number; components: { name: string; root: string }[]; skipped: unknown[] }>(ws, ["rebuild-db"]);
    expect(rebuilt).toMatchObject({ checkpoints: 2, pinned: 1, skipped: [], components: [{ name: "web", root: ws.root, checkpoints: 2 }] });

    const component = await cliJson<{ exclude: string[]; metadata: Record<string, unknown> }>(ws, ["component", "show", "web"]);
    expect(component.exclude).toEqual(["*.tmp"]);
    expect(component.metadata).toMatchObject({ owner: "alice" });
    const listed = await cliJson<{ items: { id: string; pinned: boolean; reason: string | null; paths: string[] }[] }>(ws, ["checkpoint", "list", "web"]);
    expect(listed.items.map((c) => [c.id, c.pinned])).toEqual([
      [second.id, false],
      [first.id, true],
    ]);
    expect(listed.items[1]?.reason).toBe("first");
    expect(listed.items[0]?.paths).toEqual(["src/b.ts"]);
    expect(await cliJson<{ state: string }>(ws, ["checkpoint", "verify", first.id])).toMatchObject({ state: "verified" });
    await cliJson(ws, ["rollback", first.id, "--yes"]);
    expect(treeDifferences(firstTree, readTree(ws.root))).toEqual([]);
  });
});

describe("a snapshot record the database does not know", () => {
  it("is kept by retention with every object it references, and rebuild-db adds it back to the database", async () => {
    const { ws, second } = await componentWithCheckpoints("lost-row");
    await inspectData(ws).db.checkpoint.delete({ where: { id: second.id } });

    const run = await runCli(ws, ["retention", "run", "--json"], { env: { SAFETYNET_RETENTION_GRACE_MS: "0" } });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.stringify(jsonOf(run))).toMatch(/1 snapshot record\(s\) in the store are unknown to the database/);
    expect(fs.existsSync(path.join(ws.dataDir, "store", "snapshots", `${second.id}.json`))).toBe(true);

    const rebuilt = await cliJson<{ checkpoints: number }>(ws, ["rebuild-db"]);
    expect(rebuilt.checkpoints).toBe(1);
    expect(await cliJson<{ state: string }>(ws, ["checkpoint", "verify", second.id])).toMatchObject({ state: "verified" });
  });
});
