/**
 * A data directory written by the release that stored flat manifests (one JSON
 * object per checkpoint listing every entry: test/fixtures/legacy-flat, made by
 * its make.sh with that release) keeps working under the tree format, through
 * the CLI as a process: it opens (the metadata database migrates), verifies,
 * restores, exports, compares, rolls back, takes new checkpoints on top with
 * change records against the old ones, sweeps and rebuilds its database.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, REPO_ROOT, type WorkspaceDirs } from "../support/workspace";
import { loseMetadataDatabase, onPostgresPass } from "../support/metadata-store";
import { moveObjectsIntoBucket } from "../support/object-store-location";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const FIXTURE = path.join(REPO_ROOT, "test", "fixtures", "legacy-flat");

interface ListJson {
  items: { id: string; reason: string | null; kind: string; changes: { added: number; modified: number; deleted: number } | null; changesAgainst: string | null }[];
}

const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), "utf8");

/** The fixture's data directory and workspace, with the component pointed at this copy of the workspace. */
async function legacyWorkspace(): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs("legacy");
  execFileSync("tar", ["-xzf", path.join(FIXTURE, "data.tar.gz"), "-C", ws.base]);
  fs.rmSync(ws.root, { recursive: true });
  execFileSync("tar", ["-xzf", path.join(FIXTURE, "root.tar.gz"), "-C", ws.base]);
  fs.renameSync(path.join(ws.base, "root"), ws.root);
  // On the S3 pass: the same data directory with its objects moved into the bucket.
  await moveObjectsIntoBucket(ws.dataDir);
  if (onPostgresPass()) {
    // The fixture's metadata is a SQLite file: on PostgreSQL, the store is what the database is rebuilt from.
    for (const name of ["metadata-store", "safetynet.db"]) fs.rmSync(path.join(ws.dataDir, name));
    await loseMetadataDatabase(ws.dataDir);
    await cliJson(ws, ["rebuild-db", "--root", `shop=${ws.root}`]);
  }
  await cliJson(ws, ["component", "add", "shop", "--root", ws.root, "--db", "sqlite:data/app.db"]);
  return ws;
}

async function checkpointsByReason(ws: WorkspaceDirs): Promise<Map<string, string>> {
  const list = await cliJson<ListJson>(ws, ["checkpoint", "list", "shop", "--limit", "100"]);
  return new Map(list.items.filter((c) => c.kind === "manual").map((c) => [c.reason ?? "", c.id]));
}

it("opens, verifies, restores, exports and compares the checkpoints an earlier release wrote", async () => {
  const ws = await legacyWorkspace();
  const verified = await cliJson<{ outcome: string; checkpoints: number; verified: number }>(ws, ["verify", "--all"]);
  expect(verified).toMatchObject({ outcome: "succeeded", checkpoints: 5, verified: 5 });
  const byReason = await checkpointsByReason(ws);
  const first = byReason.get("first") as string;
  const withDb = byReason.get("with db") as string;

  const into = path.join(ws.base, "restored");
  await cliJson(ws, ["checkpoint", "restore", first, "--to", into]);
  expect(read(into, "src/a.ts")).toBe("export const a = 1;\n");
  expect(read(into, "docs/readme.md")).toBe("# Docs\n");
  expect(fs.readlinkSync(path.join(into, "src/readme-link"))).toBe("../docs/readme.md");
  expect(fs.statSync(path.join(into, "bin/run.sh")).mode & 0o777).toBe(0o755);
  expect(fs.statSync(path.join(into, "docs/two.txt")).ino).toBe(fs.statSync(path.join(into, "docs/one.txt")).ino);
  expect(fs.readdirSync(path.join(into, "docs"), { encoding: "buffer" }).some((n) => n.equals(Buffer.from("caf\xe9.txt", "latin1")))).toBe(true);
  const disk = fs.statSync(path.join(into, "data/disk.img"));
  expect(disk.size).toBe(2 * 1024 * 1024);
  expect(disk.blocks * 512).toBeLessThan(1024 * 1024); // restored with its holes

  const archive = path.join(ws.base, "with-db.tar.gz");
  await cliJson(ws, ["checkpoint", "export", withDb, "--format", "tar.gz", "-o", archive]);
  const folder = `shop-${withDb}/`;
  const listed = execFileSync("tar", ["-tzf", archive], { encoding: "latin1" }).split("\n");
  expect(listed).toEqual(expect.arrayContaining(["src/a.ts", "docs/guide.md", "data/disk.img", ".safetynet-databases/databases.json"].map((p) => folder + p)));
  expect(listed).not.toContain(`${folder}docs/readme.md`);

  const diff = await cliJson<{ added: { path: string }[]; modified: { path: string }[]; deleted: { path: string }[] }>(ws, ["checkpoint", "diff", first, "--against", withDb]);
  expect(diff.added.map((e) => e.path)).toEqual(["docs/guide.md"]);
  expect(diff.modified.map((e) => e.path)).toEqual(["src/a.ts"]);
  expect(diff.deleted.map((e) => e.path)).toEqual(["docs/readme.md"]);
});

it("rolls back to an old checkpoint, records the next checkpoints' changes against the old ones, sweeps and rebuilds", async () => {
  const ws = await legacyWorkspace();
  const byReason = await checkpointsByReason(ws);
  const withDb = byReason.get("with db") as string;
  fs.writeFileSync(path.join(ws.root, "src/a.ts"), "export const a = 5;\n");

  await cliJson(ws, ["rollback", withDb, "--yes"]);
  expect(read(ws.root, "src/a.ts")).toBe("export const a = 2;\n");
  expect(read(ws.root, "docs/guide.md")).toBe("# Docs v2\n");
  expect(fs.existsSync(path.join(ws.root, "docs/readme.md"))).toBe(false);

  // Taken by this release on top of the old ones: a tree, with its changes against the previous checkpoint, the
  // rollback's safety checkpoint (a.ts was 5, readme.md there, guide.md not): a.ts and b.ts modified, one added, one deleted.
  fs.writeFileSync(path.join(ws.root, "src/b.ts"), "export const b = 3;\n");
  const created = await cliJson<{ id: string; changes: { added: number; modified: number; deleted: number } | null; changesAgainst: string | null }>(ws, [
    "checkpoint",
    "create",
    "shop",
    "--reason",
    "after the upgrade",
  ]);
  expect(created.changes).toEqual({ added: 1, modified: 2, deleted: 1 });
  const log = await cliJson<{ items: { checkpointId: string; change: string }[] }>(ws, ["log", "shop", "src/b.ts"]);
  expect(log.items[0]).toMatchObject({ checkpointId: created.id, change: "modified" });

  // The checkpoint kept 0 days expires; what only it held is collected, the rest stays whole.
  const swept = await cliJson<{ expired: { checkpointId: string }[]; objectsDeleted: number }>(ws, ["retention", "run"], 0, { env: { SAFETYNET_RETENTION_GRACE_MS: "0" } });
  expect(swept.expired.map((d) => d.checkpointId)).toContain(byReason.get("expires"));
  expect(swept.objectsDeleted).toBeGreaterThan(0);
  expect(await cliJson<{ outcome: string }>(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded" });
  const into = path.join(ws.base, "restored");
  await cliJson(ws, ["checkpoint", "restore", byReason.get("first") as string, "--to", into]);
  expect(read(into, "src/a.ts")).toBe("export const a = 1;\n");

  const before = await cliJson<ListJson>(ws, ["checkpoint", "list", "shop", "--limit", "100"]);
  await loseMetadataDatabase(ws.dataDir);
  await cliJson(ws, ["rebuild-db"]);
  const after = await cliJson<ListJson>(ws, ["checkpoint", "list", "shop", "--limit", "100"]);
  expect(after.items.map((c) => c.id)).toEqual(before.items.map((c) => c.id));
  // The change records come back too (found again by comparing the trees).
  expect(after.items.find((c) => c.id === created.id)?.changes).toEqual({ added: 1, modified: 2, deleted: 1 });
  expect(await cliJson<{ outcome: string }>(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded" });
});
