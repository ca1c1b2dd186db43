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

const FILES = ["a.txt", "b/c.txt", "b/d/e.txt", "f/g.log", "f/h.txt", ".gitignore", "b/.gitignore", "node_modules/x.js"];

type Edit = { kind: "write"; rel: string; text: string } | { kind: "rm"; rel: string } | { kind: "mvdir"; from: string; to: string } | { kind: "chmod"; rel: string };

function apply(root: string, edit: Edit): void {
  const at = (rel: string) => path.join(root, rel);
  try {
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

const edits: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), rel: fc.constantFrom(...FILES), text: fc.string({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant("rm" as const), rel: fc.constantFrom(...FILES, "b", "b/d", "f") }),
  fc.record({ kind: fc.constant("mvdir" as const), from: fc.constantFrom("b", "f", "b/d"), to: fc.constantFrom("moved", "b/moved", "f2") }),
  fc.record({ kind: fc.constant("chmod" as const), rel: fc.constantFrom(...FILES) }),
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
      { numRuns: 25, seed: 4242 },
    );
    // The point of it: most scans did not walk.
    expect(tracker.stats.incremental).toBeGreaterThan(tracker.stats.fullWalks);
  });
});
