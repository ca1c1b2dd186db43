import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { changeTracker, disableChangeTracking, enableChangeTracking, type ChangeTracker } from "./change-tracker";
import { scanComponent } from "./walk";
import { privateWatchman, type PrivateWatchman } from "../../test/support/watchman";

/** What the tracker logged, to assert on. */
function recordingLog() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => void lines.push(`info: ${m}`), warn: (m: string) => void lines.push(`warn: ${m}`) } };
}

let wm: PrivateWatchman;
beforeAll(() => {
  wm = privateWatchman();
});
afterEach(async () => {
  await disableChangeTracking();
});
afterAll(() => {
  wm?.stop();
});

async function tracking(binary = wm.binary, options: { timeoutMs?: number } = {}): Promise<{ tracker: ChangeTracker; lines: string[] }> {
  const { lines, log } = recordingLog();
  expect(await enableChangeTracking({ binary, log, ...options })).toBe(true);
  const tracker = changeTracker();
  if (!tracker) throw new Error("no tracker");
  return { tracker, lines };
}

function tempRoot(label = "sn-tracker-"): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), label)));
}

// Paths inside the folders the edits move to, too: writes under a moved folder's subfolders must be seen by their new paths.
const FILES = ["a.txt", "b/c.txt", "b/d/e.txt", "f/g.log", "f/h.txt", ".gitignore", "b/.gitignore", "node_modules/x.js", "moved/d/e.txt", "moved/c.txt", "f2/h.txt", "in/sub/k.txt", "gen/x/y/z.txt"];

type Edit =
  | { kind: "write"; rel: string; text: string }
  | { kind: "rm"; rel: string }
  | { kind: "mvdir"; from: string; to: string }
  | { kind: "mvin"; to: string }
  | { kind: "mkdirp"; rel: string }
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
    } else if (edit.kind === "mkdirp") {
      // `mkdir -p a/b/c` and a file at the bottom, at once.
      fs.mkdirSync(at(edit.rel), { recursive: true });
      fs.writeFileSync(path.join(at(edit.rel), "made.txt"), edit.rel);
    } else if (edit.kind === "rm") fs.rmSync(at(edit.rel), { recursive: true, force: true });
    else if (edit.kind === "mvdir") fs.renameSync(at(edit.from), at(edit.to));
    else fs.chmodSync(at(edit.rel), 0o755);
  } catch {
    // An edit that does not apply to the tree as it is (missing parent, a file where a folder is): skip it.
  }
}

// Weighted as agents edit: mostly writes, now and then a folder moved, moved in or made with its subfolders.
const edits: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("write" as const), rel: fc.constantFrom(...FILES), text: fc.string({ maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("rm" as const), rel: fc.constantFrom(...FILES, "b", "b/d", "f", "gen/x") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mvdir" as const), from: fc.constantFrom("b", "f", "b/d", "moved", "in", "gen"), to: fc.constantFrom("moved", "b/moved", "f2", "b") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mvin" as const), to: fc.constantFrom("in", "b/in") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mkdirp" as const), rel: fc.constantFrom("gen/x/y", "b/d/p/q", "moved/r/s") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("chmod" as const), rel: fc.constantFrom(...FILES, "b", "b/d") }) },
);

describe("the change tracker (Watchman instead of a walk)", () => {
  it("gives exactly the scan a full walk gives, after any batch of edits", async () => {
    const { tracker } = await tracking();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(edits, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (batches) => {
        const root = tempRoot();
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
    // Most scans re-read only what changed; a changed .gitignore walks.
    expect(tracker.stats.incremental).toBeGreaterThan(tracker.stats.unvouched);
    expect(tracker.stats.unvouched).toBeGreaterThan(0);
    // Every watch was removed with its component.
    expect(wm.watchList()).toEqual([]);
  });

  it("gives exactly what a walk gives with include globs, as folders come to hold included files and stop holding them", async () => {
    const { tracker } = await tracking();
    const root = tempRoot();
    const options = { include: ["**/*.ts"], exclude: ["**/skip/**"] };
    try {
      fs.mkdirSync(path.join(root, "src/empty"), { recursive: true });
      fs.writeFileSync(path.join(root, "src/a.md"), "not included");
      await tracker.scanAll("cmp", root, options);
      const steps: (() => void)[] = [
        () => fs.writeFileSync(path.join(root, "src/empty/a.ts"), "now included"),
        () => fs.mkdirSync(path.join(root, "lib/deep/er"), { recursive: true }),
        () => fs.writeFileSync(path.join(root, "lib/deep/er/b.ts"), "b"),
        () => fs.rmSync(path.join(root, "src/empty/a.ts")),
        () => fs.mkdirSync(path.join(root, "lib/skip/x"), { recursive: true }),
        () => fs.writeFileSync(path.join(root, "lib/skip/x/c.ts"), "excluded"),
        () => fs.renameSync(path.join(root, "lib/deep"), path.join(root, "src/deep")),
      ];
      for (const step of steps) {
        step();
        expect(await tracker.scanAll("cmp", root, options)).toEqual(scanComponent(root, { ...options, scope: { kind: "all" } }));
      }
      expect(tracker.stats).toEqual({ fullWalks: 1, incremental: steps.length, unvouched: 0 });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  /** A tracked tree with subfolders, scanned once (a full walk) so that later scans can be incremental. */
  async function trackedTree(binary = wm.binary) {
    const { tracker, lines } = await tracking(binary);
    const root = tempRoot();
    for (const rel of ["src/a.ts", "src/lib/b.ts", "src/lib/deep/c.ts", "docs/d.md"]) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), rel);
    }
    await tracker.scanAll("cmp", root, {});
    const scan = async () => {
      const tracked = await tracker.scanAll("cmp", root, {});
      expect(tracked).toEqual(scanComponent(root, { scope: { kind: "all" } }));
    };
    return { tracker, lines, root, scan, at: (rel: string) => path.join(root, rel), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
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
      expect(t.tracker.stats).toEqual({ fullWalks: 1, incremental: 5, unvouched: 0 });
    } finally {
      t.cleanup();
    }
  });

  it("sees a moved folder, and edits under its subfolders, by their new paths without walking", async () => {
    const t = await trackedTree();
    try {
      fs.renameSync(t.at("src/lib"), t.at("src/moved"));
      await t.scan();
      fs.appendFileSync(t.at("src/moved/deep/c.ts"), "// after the move\n");
      await t.scan();
      fs.renameSync(t.at("src/moved/deep"), t.at("docs/deep"));
      fs.writeFileSync(t.at("docs/deep/new.ts"), "new in the moved folder");
      await t.scan();
      expect(t.tracker.stats).toEqual({ fullWalks: 1, incremental: 3, unvouched: 0 });
    } finally {
      t.cleanup();
    }
  });

  it("sees edits in subfolders made at once (mkdir -p) and in a folder moved in from outside, without walking", async () => {
    const t = await trackedTree();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-outside-"));
    try {
      fs.mkdirSync(t.at("gen/x/y"), { recursive: true });
      fs.writeFileSync(t.at("gen/x/y/z.ts"), "generated");
      fs.mkdirSync(path.join(outside, "pkg", "lib"), { recursive: true });
      fs.writeFileSync(path.join(outside, "pkg", "lib", "index.js"), "unpacked");
      fs.renameSync(path.join(outside, "pkg"), t.at("pkg"));
      await t.scan();
      fs.appendFileSync(t.at("gen/x/y/z.ts"), "// edited");
      fs.rmSync(t.at("pkg/lib/index.js"));
      await t.scan();
      fs.appendFileSync(t.at("pkg/lib/other.js"), "// added");
      await t.scan();
      expect(t.tracker.stats).toEqual({ fullWalks: 1, incremental: 3, unvouched: 0 });
    } finally {
      t.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("sees a file with several names change when it is written through a name it does not report (another name, or one outside the root)", async () => {
    const t = await trackedTree();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tracker-outside-"));
    try {
      // (A name made outside the root is not reported, nor is the link count it changes:
      // from the next walk on, the file is known to have several names.)
      fs.linkSync(t.at("src/a.ts"), path.join(outside, "alias.ts"));
      await t.tracker.forget("cmp");
      await t.scan();
      fs.appendFileSync(path.join(outside, "alias.ts"), "// written outside\n");
      await t.scan();
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

  it("walks when a changed name is not UTF-8 (Watchman's client cannot hand it over), and re-reads only what changed once it stays as it is", async () => {
    const t = await trackedTree();
    try {
      fs.mkdirSync(Buffer.from(`${t.root}/dir\xff`, "latin1"));
      fs.writeFileSync(Buffer.from(`${t.root}/dir\xff/x\xfe.txt`, "latin1"), "bytes");
      await t.scan();
      expect(t.tracker.stats).toMatchObject({ fullWalks: 2, unvouched: 1 });
      fs.appendFileSync(t.at("src/a.ts"), "// an ordinary edit\n");
      await t.scan();
      expect(t.tracker.stats).toMatchObject({ fullWalks: 2, incremental: 1 });
      fs.appendFileSync(Buffer.from(`${t.root}/dir\xff/x\xfe.txt`, "latin1"), " more");
      await t.scan();
      expect(t.tracker.stats).toMatchObject({ fullWalks: 3, unvouched: 2 });
    } finally {
      t.cleanup();
    }
  });

  it("stays exact when the daemon is restarted mid-sequence: the next answer is a fresh instance, so the scan walks", async () => {
    for (const saveState of [true, false]) {
      const own = privateWatchman({ saveState });
      const t = await trackedTree(own.binary);
      try {
        fs.appendFileSync(t.at("src/a.ts"), "// before the restart\n");
        await t.scan();
        expect(t.tracker.stats).toEqual({ fullWalks: 1, incremental: 1, unvouched: 0 });
        own.shutdown();
        // Changes while no daemon runs: no one saw them but the walk.
        fs.appendFileSync(t.at("src/lib/deep/c.ts"), "// while the daemon was down\n");
        fs.renameSync(t.at("src/lib"), t.at("src/moved"));
        fs.mkdirSync(t.at("gen/x"), { recursive: true });
        await t.scan();
        expect(t.tracker.stats, `saveState ${saveState}; the tracker said: ${t.lines.join(" | ")}`).toEqual({ fullWalks: 2, incremental: 1, unvouched: 1 });
        // The new daemon watches the root and answers again.
        fs.appendFileSync(t.at("src/moved/deep/c.ts"), "// after the restart\n");
        await t.scan();
        expect(t.tracker.stats, `saveState ${saveState}; the tracker said: ${t.lines.join(" | ")}`).toEqual({ fullWalks: 2, incremental: 2, unvouched: 1 });
        expect(own.watchList()).toEqual([t.root]);
        await disableChangeTracking();
        expect(own.watchList()).toEqual([]);
      } finally {
        t.cleanup();
        own.stop();
      }
    }
  });

  it("walks at once, without waiting again, while the daemon does not answer (a hung daemon never hangs a scan)", async () => {
    // A "watchman" whose socket accepts connections and never answers.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sn-wm-hung-"));
    const sock = path.join(dir, "sock");
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const binary = path.join(dir, "watchman");
    fs.writeFileSync(binary, `#!/bin/sh\necho '{"version":"4.9.0","sockname":"${sock}"}'\n`, { mode: 0o755 });
    const root = tempRoot();
    try {
      const { tracker, lines } = await tracking(binary, { timeoutMs: 300 });
      expect(lines.join("\n")).toMatch(/did not answer/);
      fs.writeFileSync(path.join(root, "a.txt"), "a");
      for (let i = 0; i < 3; i++) {
        fs.writeFileSync(path.join(root, `b${i}.txt`), "b");
        expect(await tracker.scanAll("cmp", root, {})).toEqual(scanComponent(root, { scope: { kind: "all" } }));
      }
      expect(tracker.stats.incremental).toBe(0);
      // The version check at start and the first scan's watch timed out; the scans after it did not try again.
      expect(connections).toBe(2);
      expect(lines.filter((l) => l.startsWith("warn:")).length).toBeLessThanOrEqual(2);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("walks when the binary fails", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sn-wm-broken-"));
    const binary = path.join(dir, "watchman");
    fs.writeFileSync(binary, "#!/bin/sh\necho 'cannot start' >&2\nexit 1\n", { mode: 0o755 });
    const root = tempRoot();
    try {
      const { tracker, lines } = await tracking(binary);
      fs.writeFileSync(path.join(root, "a.txt"), "a");
      await tracker.scanAll("cmp", root, {});
      fs.writeFileSync(path.join(root, "b.txt"), "b");
      expect(await tracker.scanAll("cmp", root, {})).toEqual(scanComponent(root, { scope: { kind: "all" } }));
      expect(tracker.stats).toEqual({ fullWalks: 2, incremental: 0, unvouched: 1 });
      expect(lines.some((l) => l.startsWith("warn:"))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("is not enabled without Watchman installed: one info line, and scans walk", async () => {
    const { lines, log } = recordingLog();
    expect(await enableChangeTracking({ binary: "/nonexistent/watchman", log })).toBe(false);
    expect(changeTracker()).toBeNull();
    expect(lines).toEqual(["info: Watchman is not installed (no /nonexistent/watchman file); scans walk the whole tree"]);
  });
});

describe("changesSince (for callers that keep their own view of a tree)", () => {
  it("lists the changed paths since a token, leaves out ignored folders, and answers fresh when it cannot vouch", async () => {
    const { tracker } = await tracking();
    const root = tempRoot();
    const options = { extraExcludes: ["var/data"] };
    try {
      fs.mkdirSync(path.join(root, "src"));
      fs.writeFileSync(path.join(root, ".gitignore"), "build/\n*.log\n");
      fs.writeFileSync(path.join(root, "src/a.ts"), "a");
      const first = await tracker.changesSince("cmp", root, options, null);
      expect(first).toMatchObject({ fresh: true });
      let token = first.token;
      expect(token).not.toBe("");

      fs.appendFileSync(path.join(root, "src/a.ts"), "more");
      fs.mkdirSync(path.join(root, "node_modules/pkg/lib"), { recursive: true });
      fs.writeFileSync(path.join(root, "node_modules/pkg/lib/index.js"), "installed");
      fs.mkdirSync(path.join(root, "src/.git"), { recursive: true });
      fs.writeFileSync(path.join(root, "src/.git/HEAD"), "ref");
      fs.mkdirSync(path.join(root, "var/data/objects"), { recursive: true });
      fs.writeFileSync(path.join(root, "var/data/objects/ab"), "an object");
      fs.mkdirSync(path.join(root, "build/out"), { recursive: true });
      fs.writeFileSync(path.join(root, "build/out/x.js"), "built");
      fs.writeFileSync(path.join(root, "src/debug.log"), "ignored file");
      fs.rmSync(path.join(root, "src/a.ts"));
      fs.writeFileSync(path.join(root, "src/b.ts"), "b");
      let changes = await tracker.changesSince("cmp", root, options, token);
      // `var` itself is a folder of the component; what is inside the data directory is not. A nested .git is content.
      expect(changes).toEqual({ fresh: false, token: expect.any(String), paths: ["src", "src/.git", "src/.git/HEAD", "src/a.ts", "src/b.ts", "var"] });
      token = changes.token;

      changes = await tracker.changesSince("cmp", root, options, token);
      expect(changes).toEqual({ fresh: false, token: expect.any(String), paths: [] });
      token = changes.token;

      // Other rules, another root, no token: fresh.
      expect(await tracker.changesSince("cmp", root, { exclude: ["**/*.md"] }, token)).toMatchObject({ fresh: true });
      expect(await tracker.changesSince("cmp", root, options, "")).toMatchObject({ fresh: true });
      expect(await tracker.changesSince("cmp", root, options, "not a token")).toMatchObject({ fresh: true });

      fs.writeFileSync(path.join(root, ".gitignore"), "*.log\n");
      changes = await tracker.changesSince("cmp", root, options, token);
      expect(changes).toMatchObject({ fresh: true, why: "a .gitignore changed" });

      fs.writeFileSync(path.join(root, "src/c.ts"), "c");
      fs.writeFileSync(path.join(root, "src/d.ts"), "d");
      expect(await tracker.changesSince("cmp", root, options, changes.token, { maxPaths: 2 })).toMatchObject({ fresh: true, why: "3 paths changed" });

      await tracker.forget("cmp");
      expect(wm.watchList()).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
