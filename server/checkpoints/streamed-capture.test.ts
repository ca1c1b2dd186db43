import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, openWorkspace, writeTree, type Workspace } from "../../test/support/workspace";
import { writeEdgeCaseTree } from "../../test/support/fixtures";
import { dataPaths } from "../core";
import { openStatCache, RACY_WINDOW_MS } from "../scan/stat-cache";
import type { ComponentView } from "../registry/components";
import { captureLiveState } from "./live-state";
import { buildTrees } from "./tree-build";
import { captureStreamed } from "./streamed-capture";
import { childAtPath, readTree } from "./tree-read";
import type { TreeChild } from "./tree-format";

cleanUpAfterEach();

/** The root tree a list of scanned entries gives (what a capture with a change tracker builds). */
async function rootFromList(ws: Workspace, component: ComponentView): Promise<string> {
  const live = await captureLiveState(ws.core, component, { kind: "all" }, { storeObjects: false });
  return buildTrees(live.entries, () => undefined).root;
}

/** The children of the folder at `folder` of the tree `root`. */
function childrenAt(ws: Workspace, root: string, folder: string): TreeChild[] {
  const tree = folder === "" ? root : (childAtPath(ws.core.store, root, folder)?.tree as string);
  return readTree(ws.core.store, tree).children;
}

/** Files whose ctime (which utimes cannot set back) is out of the stat cache's racy window, so their rows are kept. */
async function outOfRacyWindow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, RACY_WINDOW_MS + 100));
}

function statCacheOf(ws: Workspace, component: ComponentView) {
  return openStatCache(dataPaths(ws.dataDir).statCache, component.id, ws.core.store.collectionGeneration());
}

/** Names whose path order differs from their name order ("a-c" sorts before "a/b"), hard links across folders, nested rules. */
function writeOrderingTree(root: string): void {
  writeTree(root, {
    "a/b.ts": "export const b = 1;\n",
    "a-c.ts": "export const c = 2;\n",
    "a0.ts": "export const zero = 0;\n",
    "lib/x.ts": "shared content\n",
    "lib/nested/.gitignore": "*.tmp\n",
    "lib/nested/keep.ts": "keep\n",
    "lib/nested/drop.tmp": "dropped by the nested rule\n",
    "empty/.keep": "",
  });
  fs.mkdirSync(path.join(root, "really-empty"));
  // Three names of one file, the first in path order being "a-link" (before "a/").
  fs.linkSync(path.join(root, "lib/x.ts"), path.join(root, "a-link.ts"));
  fs.linkSync(path.join(root, "lib/x.ts"), path.join(root, "a/x-again.ts"));
}

describe("a whole-component capture that stores as it walks", () => {
  it("builds the same tree, byte for byte, as building it from a list of every entry, across several flushes", async () => {
    const ws = openWorkspace();
    writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    writeOrderingTree(path.join(ws.root, "ordering"));
    const component = await addComponent(ws);

    const streamed = await captureStreamed(ws.core, component, { filesPerFlush: 3 });

    expect(streamed.tree.root).toBe(await rootFromList(ws, component));
    expect(streamed.live.filesRead).toBeGreaterThan(6);
    expect(streamed.live.entries).toEqual([]);
    // Every folder's tree is in the store: the whole checkpoint reads back.
    const names = childrenAt(ws, streamed.tree.root, "ordering").map((c) => c.name);
    expect(names).toEqual(["a", "a-c.ts", "a-link.ts", "a0.ts", "empty", "lib", "really-empty"]);
    const links = childrenAt(ws, streamed.tree.root, "ordering/a").find((c) => c.name === "x-again.ts");
    expect(links?.hardlinkTo).toBe("ordering/a-link.ts");
    const libX = childrenAt(ws, streamed.tree.root, "ordering/lib").find((c) => c.name === "x.ts");
    expect(libX?.hardlinkTo).toBe("ordering/a-link.ts");
    expect(childrenAt(ws, streamed.tree.root, "ordering/lib/nested").map((c) => c.name)).toEqual([".gitignore", "keep.ts"]);
  });

  it("keeps a custom include's folders exactly as the list-based build does", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "src/a.ts": "a\n", "src/deep/b.ts": "b\n", "docs/readme.md": "r\n", "docs/only.txt": "t\n", "tools/x.sh": "x\n" });
    const component = await addComponent(ws, { include: ["src/**", "**/*.md"] });

    const streamed = await captureStreamed(ws.core, component, { filesPerFlush: 1 });

    expect(streamed.tree.root).toBe(await rootFromList(ws, component));
    expect(childrenAt(ws, streamed.tree.root, "").map((c) => c.name)).toEqual(["docs", "src"]);
  });

  it("saves stat cache rows only for objects made durable, reads nothing the next time, and drops the rows of files gone", async () => {
    const ws = openWorkspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`dir${i % 3}/file${i}.ts`] = `content ${i}\n`;
    writeTree(ws.root, files);
    await outOfRacyWindow();
    const component = await addComponent(ws);

    const first = await captureStreamed(ws.core, component, { filesPerFlush: 4 });
    expect(first.live.filesRead).toBe(12);
    const cache = statCacheOf(ws, component);
    for (const rel of Object.keys(files)) {
      const row = cache.get(rel);
      expect(row, rel).toBeDefined();
      expect(ws.core.store.has(row?.sha256 as string), rel).toBe(true);
    }
    cache.close();

    const again = await captureStreamed(ws.core, component, { filesPerFlush: 4 });
    expect(again.live.filesRead).toBe(0);
    expect(again.tree.root).toBe(first.tree.root);

    fs.rmSync(path.join(ws.root, "dir1/file4.ts"));
    const third = await captureStreamed(ws.core, component, { filesPerFlush: 4 });
    expect(third.live.filesRead).toBe(0);
    expect(third.tree.totals.files).toBe(11);
    const after = statCacheOf(ws, component);
    expect(after.get("dir1/file4.ts")).toBeUndefined();
    expect(after.get("dir1/file1.ts")).toBeDefined();
    after.close();
  });

  it("after a failure past a flush, leaves no staged file behind and no stat cache row for an object the store lacks", async () => {
    const ws = openWorkspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`f${i}.ts`] = `content ${i}\n`;
    writeTree(ws.root, files);
    await outOfRacyWindow();
    const component = await addComponent(ws);
    // The seventh read fails: two flushes (after the third and the sixth) came before it.
    let reads = 0;
    const putFile = ws.core.store.putFile.bind(ws.core.store);
    ws.core.store.putFile = async (absPath, expected, batch) => {
      if (++reads === 7) throw new Error(`injected read failure on ${absPath}`);
      return putFile(absPath, expected, batch);
    };

    await expect(captureStreamed(ws.core, component, { filesPerFlush: 3 })).rejects.toThrow(/injected read failure/);

    expect(fs.readdirSync(path.join(ws.dataDir, "store", "tmp"))).toEqual([]);
    const cache = statCacheOf(ws, component);
    let rows = 0;
    for (const rel of Object.keys(files)) {
      const row = cache.get(rel);
      if (!row) continue;
      rows++;
      expect(ws.core.store.has(row.sha256), rel).toBe(true);
    }
    cache.close();
    // The two flushes before the failure saved their files' rows.
    expect(rows).toBe(6);
  });
});
