/**
 * A folder of many files is stored as pages (server/checkpoints/tree-format.ts):
 * through the CLI, a change in it adds a page and an index, not the whole
 * folder, and everything that reads or collects checkpoints finds the pages:
 * verify, retention's sweep, a rollback, a restore into a folder, rebuild-db.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, readTree, treeDifferences } from "../support/workspace";
import { loseMetadataDatabase } from "../support/metadata-store";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** Bytes of the store's objects on disk (as stored: compressed where it paid). */
function storeBytes(dataDir: string): number {
  let total = 0;
  const objects = path.join(dataDir, "store", "objects");
  for (const name of fs.readdirSync(objects, { recursive: true }) as string[]) {
    const st = fs.statSync(path.join(objects, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

type Created = { id: string; newBytes: number; changes: { added: number; modified: number; deleted: number } | null };

it("a change in a folder of 600 files stores a page of it; verify, retention, rollback, restore and rebuild-db read every page", async () => {
  const ws = makeWorkspaceDirs("large-folders");
  fs.mkdirSync(path.join(ws.root, "big/inner"), { recursive: true });
  for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(ws.root, "big", `module-${String(i).padStart(4, "0")}.ts`), `export const value${i} = ${i};\n`);
  fs.writeFileSync(path.join(ws.root, "big/inner/x.ts"), "x\n");
  fs.writeFileSync(path.join(ws.root, "top.txt"), "top\n");
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);

  const first = await cliJson<Created>(ws, ["checkpoint", "create", "web", "--reason", "first", "--retention-days", "0"]);
  const storedAfterFirst = storeBytes(ws.dataDir);
  fs.appendFileSync(path.join(ws.root, "big/module-0300.ts"), "// edited\n");
  const second = await cliJson<Created>(ws, ["checkpoint", "create", "web", "--reason", "one file edited"]);
  expect(second.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
  // The folder's 600 entries are about 100 KB of tree (some 25 KB compressed): a change stores one page of it (a
  // few KB compressed), the index, the folder above, the file and the root record.
  expect(storeBytes(ws.dataDir) - storedAfterFirst).toBeLessThan(12_000);
  const afterEdit = readTree(ws.root);

  // The first checkpoint expires and is collected: every page the second still uses stays.
  const swept = await cliJson<{ expired: { checkpointId: string }[]; objectsDeleted: number }>(ws, ["retention", "run"], 0, { env: { SAFETYNET_RETENTION_GRACE_MS: "0" } });
  expect(swept.expired.map((e) => e.checkpointId)).toEqual([first.id]);
  expect(swept.objectsDeleted).toBeGreaterThan(0);
  expect(await cliJson<{ outcome: string }>(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded" });

  // An agent edits, adds and removes files in the folder; the rollback puts it back exactly.
  fs.appendFileSync(path.join(ws.root, "big/module-0007.ts"), "// agent\n");
  fs.writeFileSync(path.join(ws.root, "big/module-9999.ts"), "new\n");
  fs.rmSync(path.join(ws.root, "big/module-0500.ts"));
  await cliJson(ws, ["rollback", second.id, "--yes"]);
  expect(treeDifferences(afterEdit, readTree(ws.root))).toEqual([]);

  const into = path.join(ws.base, "restored");
  await cliJson(ws, ["checkpoint", "restore", second.id, "--to", into]);
  expect(treeDifferences(afterEdit, readTree(into), { mtime: false })).toEqual([]);

  // The database lost: rebuilt from the store, with the change records found again by comparing trees.
  await loseMetadataDatabase(ws.dataDir);
  await cliJson(ws, ["rebuild-db"]);
  // (The rollback's safety checkpoint holds the agent's edits: against the second, one file added, one modified, one deleted.)
  const listed = await cliJson<{ items: (Created & { id: string })[] }>(ws, ["checkpoint", "list", "web"]);
  expect(listed.items.map((c) => [c.id === second.id ? "second" : "safety", c.changes])).toEqual([
    ["safety", { added: 1, modified: 1, deleted: 1 }],
    ["second", null],
  ]);
  expect(await cliJson<{ outcome: string }>(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded" });
});
