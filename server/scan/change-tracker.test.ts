import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { changeTracker, disableChangeTracking, enableChangeTracking } from "./change-tracker";
import { scanComponent } from "./walk";

afterEach(async () => {
  await disableChangeTracking();
});

// Paths inside the folders the edits move to, too: a watcher must report writes under a moved folder's subfolders by their new paths.
const FILES = ["a.txt", "b/c.txt", "b/d/e.txt", "f/g.log", "f/h.txt", ".gitignore", "b/.gitignore", "node_modules/x.js", "moved/d/e.txt", "moved/c.txt", "f2/h.txt", "in/sub/k.txt"];

type Edit =
  | { kind: "write"; rel: string; text: string }
  | { kind: "rm"; rel: string }
  | { kind: "mvdir"; from: string; to: string }
  | { kind: "mvin"; to: string }
  | { kind: "chmod"; rel: string };

function apply(root: string, edit: Edit): void {
  const at = (rel: string) => path.join(root, rel);
  try {
    if (edit.kind === "mvin") {
      // A folder with subfolders made outside the root, then renamed into it in one step.
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-outside-"));
      fs.mkdirSync(path.join(outside, "m", "sub", "deeper"), { recursive: true });
      fs.writeFileSync(path.join(outside, "m", "sub", "k.txt"), "made outside");
      fs.writeFileSync(path.join(outside, "m", "sub", "deeper", "l.txt"), "made outside, deeper");
      try {
        fs.renameSync(path.join(outside, "m"), at(edit.to));
      } finally {
        fs.rmSync(outside, { recursive: true, force: true });
      }
      return;
    }
    if (edit.kind === "write") {
      fs.mkdirSync(path.dirname(at(edit.rel)), { recursive: true });
      fs.writeFileSync(at(edit.rel), edit.rel.endsWith(".gitignore") ? `${edit.text}\n*.log\n` : edit.text);
    } else if (edit.kind === "rm") fs.rmSync(at(edit.rel), { recursive: true, force: true });
    else if (edit.kind === "mvdir") fs.renameSync(at(edit.from), at(edit.to));
    else fs.chmodSync(at(edit.rel), 0o755);
  } catch {
    // An edit that does not apply to the tree as it is (missing parent, a file where a folder is): skip it.
  }
}

// Weighted as agents edit: mostly writes, now and then a folder moved or moved in.
const edits: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("write" as const), rel: fc.constantFrom(...FILES), text: fc.string({ maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("rm" as const), rel: fc.constantFrom(...FILES, "b", "b/d", "f") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mvdir" as const), from: fc.constantFrom("b", "f", "b/d", "moved", "in"), to: fc.constantFrom("moved", "b/moved", "f2", "b") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mvin" as const), to: fc.constantFrom("in", "b/in") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("chmod" as const), rel: fc.constantFrom(...FILES) }) },
);

describe("the change tracker (a file watcher instead of a walk)", () => {
  it("gives exactly the scan a full walk gives, after any batch of edits", async () => {
    expect(await enableChangeTracking(() => undefined)).toBe(true);
    const tracker = changeTracker();
    if (!tracker) throw new Error("no tracker");
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(edits, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (batches) => {
        const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-")));
        const id = `cmp_${run++}`;
        try {
          fs.writeFileSync(path.join(root, "seed.txt"), "seed");
          await tracker.scanAll(id, root, {});
          for (const batch of batches) {
            for (const edit of batch) apply(root, edit);
            const tracked = await tracker.scanAll(id, root, {});
            expect(tracked).toEqual(scanComponent(root, { scope: { kind: "all" } }));
          }
        } finally {
          await tracker.forget(id);
          fs.rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 60, seed: 4242 },
    );
    // Both paths were taken: scans that re-read only what changed, and walks that started the watch over.
    expect(tracker.stats.incremental).toBeGreaterThan(0);
    expect(tracker.stats.rewatches).toBeGreaterThan(0);
  });

  /** A tracked tree with subfolders, scanned once (a full walk) so that later scans can be incremental. */
  async function trackedTree() {
    expect(await enableChangeTracking(() => undefined)).toBe(true);
    const tracker = changeTracker();
    if (!tracker) throw new Error("no tracker");
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-")));
    for (const rel of ["src/a.ts", "src/lib/b.ts", "src/lib/deep/c.ts", "docs/d.md"]) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), rel);
    }
    await tracker.scanAll("cmp", root, {});
    const scan = async () => {
      const tracked = await tracker.scanAll("cmp", root, {});
      expect(tracked).toEqual(scanComponent(root, { scope: { kind: "all" } }));
    };
    return { tracker, root, scan, at: (rel: string) => path.join(root, rel), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
  }

  it("re-reads only what changed when files are edited, added and removed in existing folders", async () => {
    const t = await trackedTree();
    try {
      for (let i = 0; i < 5; i++) {
        fs.appendFileSync(t.at("src/lib/deep/c.ts"), `// edit ${i}\n`);
        fs.writeFileSync(t.at(`src/lib/new-${i}.ts`), "new");
        if (i > 0) fs.rmSync(t.at(`src/lib/new-${i - 1}.ts`));
        fs.chmodSync(t.at("docs/d.md"), i % 2 ? 0o644 : 0o755);
        await t.scan();
      }
      expect(t.tracker.stats).toEqual({ fullWalks: 1, incremental: 5, rewatches: 0 });
    } finally {
      t.cleanup();
    }
  });

  it("sees edits under a moved folder's subfolders by their new paths", async () => {
    const t = await trackedTree();
    try {
      fs.renameSync(t.at("src/lib"), t.at("src/moved"));
      await t.scan();
      // The watcher reports this one under the folder's old path (src/lib/deep/c.ts): the move must have restarted the watch.
      fs.appendFileSync(t.at("src/moved/deep/c.ts"), "// after the move\n");
      await t.scan();
      expect(t.tracker.stats.rewatches).toBe(1);
    } finally {
      t.cleanup();
    }
  });

  it("sees edits in subfolders that were made before the watcher saw their parent (mkdir -p, a folder moved in)", async () => {
    const t = await trackedTree();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-outside-"));
    try {
      fs.mkdirSync(t.at("gen/x/y"), { recursive: true });
      fs.writeFileSync(t.at("gen/x/y/z.ts"), "generated");
      fs.mkdirSync(path.join(outside, "pkg", "lib"), { recursive: true });
      fs.writeFileSync(path.join(outside, "pkg", "lib", "index.js"), "unpacked");
      fs.renameSync(path.join(outside, "pkg"), t.at("pkg"));
      await t.scan();
      // Neither gen/x/y nor pkg/lib may be watched by the old subscription: these edits are only seen after a new one.
      fs.appendFileSync(t.at("gen/x/y/z.ts"), "// edited");
      fs.rmSync(t.at("pkg/lib/index.js"));
      await t.scan();
      fs.appendFileSync(t.at("pkg/lib/other.js"), "// added");
      await t.scan();
    } finally {
      t.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
  it("sees a file with several names change when it is written through a name it does not report (another name, or one outside the root)", async () => {
    const t = await trackedTree();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-outside-"));
    try {
      // (A name made outside the root is not reported; from the next walk on, the file is known to have several names.)
      fs.linkSync(t.at("src/a.ts"), path.join(outside, "alias.ts"));
      await t.tracker.forget("cmp");
      await t.scan();
      fs.appendFileSync(path.join(outside, "alias.ts"), "// written outside\n");
      await t.scan();
      // `ln` reports only the new name, yet the old one now has two names as well.
      fs.linkSync(t.at("docs/d.md"), t.at("src/lib/d-again.md"));
      await t.scan();
      fs.appendFileSync(t.at("src/lib/d-again.md"), "written through the second name\n");
      await t.scan();
      fs.rmSync(t.at("src/lib/d-again.md"));
      await t.scan();
      expect(t.tracker.stats.fullWalks).toBe(2);
    } finally {
      t.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
