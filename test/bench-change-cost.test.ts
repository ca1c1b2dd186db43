/**
 * The pieces of `npm run bench -- --change-cost` that its figures rest on, run on small
 * trees: its options, the changes it makes (the same in every copy), git commits of
 * given paths (the same objects as `git add -A && git commit`), emptying the SQLite
 * log before a size is taken, the verdicts, and the engine driver's bundle.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BENCH = path.resolve(import.meta.dirname, "..", "scripts", "bench");

interface ChangeCostOptions {
  runs: number;
  steps: number;
  historyCheckpoints: number;
  historyVia: string;
}
interface Options {
  runs: number;
  huge: boolean;
  changeCost: ChangeCostOptions | null;
}
interface Changed {
  paths: string[];
  bytes: number;
}
interface GitTool {
  setup(paths: { tree: string; scratch: string }): void;
  checkpoint(): { sec: number; id: string };
  commitPaths(paths: string[]): string;
  gitDir(): string;
}
interface Verdict {
  what: string;
  pass: boolean | null;
}
interface Request {
  op: string;
  [key: string]: unknown;
}
interface Driver {
  request(message: Request): Promise<{ ok: boolean; id?: string; files?: number }>;
  close(): Promise<void>;
}

// The bench is plain JavaScript (scripts/bench/*.mjs): each module is typed here by what the test uses.
const load = async <T>(rel: string): Promise<T> => (await import(path.join(BENCH, rel))) as T;
const { parseOptions } = await load<{ parseOptions(argv: string[]): Options }>("options.mjs");
const { fileChanger, checkpointWal } = await load<{
  fileChanger(trees: string[], files: string[], seed?: number): (count: number, tag: string) => Changed;
  checkpointWal(dataDir: string): { busy: number; log: number; checkpointed: number } | null;
}>("scenarios/change-cost/storage.mjs");
const { shadowGit } = await load<{ shadowGit(): GitTool }>("tools/git.mjs");
const { changeCostVerdicts } = await load<{ changeCostVerdicts(result: unknown, targets: unknown): Verdict[] }>("scenarios/change-cost/report.mjs");
const { changeCostTargets } = await load<{ changeCostTargets(opts: { huge: boolean }): unknown }>("targets.mjs");
const { modesOf, assertSameModes } = await load<{ modesOf(dir: string): Map<string, number>; assertSameModes(dir: string, expected: Map<string, number>, what: string): void }>("tree.mjs");
const { bundleDriver, EngineDriver } = await load<{ bundleDriver(): Promise<void>; EngineDriver: new (env: Record<string, string>) => Driver }>("tools/engine.mjs");

let work: string;
beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bench-test-")));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function smallTree(dir: string, files: number): string[] {
  const rels: string[] = [];
  for (let i = 0; i < files; i++) {
    const rel = `src/${i % 3 === 0 ? "deep/er/" : ""}f${i}.ts`;
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), `export const f${i} = ${i};\n`.repeat(i + 1));
    rels.push(rel);
  }
  return rels.sort();
}

const git = (gitDir: string, ...args: string[]) => execFileSync("git", args, { env: { ...process.env, GIT_DIR: gitDir }, encoding: "utf8" }).trim();

describe("options", () => {
  it("runs the scenario only when asked, with 5 runs by default even at scale, and the documented counts", () => {
    expect(parseOptions(["--files", "10000"]).changeCost).toBeNull();
    const huge = parseOptions(["--change-cost", "--files", "250000", "--mb", "2000"]);
    expect(huge.huge).toBe(true);
    expect(huge.runs).toBe(1); // the main scenario's scale preset...
    expect(huge.changeCost).toEqual({ runs: 5, steps: 1000, historyCheckpoints: 10000, historyVia: "api" }); // ...does not lower these
    expect(parseOptions(["--change-cost", "--runs", "2", "--change-cost-steps", "30", "--change-cost-history-via", "engine"]).changeCost).toEqual({
      runs: 2,
      steps: 30,
      historyCheckpoints: 10000,
      historyVia: "engine",
    });
    expect(() => parseOptions(["--change-cost", "--change-cost-history-via", "http"])).toThrow(/api or engine/);
  });
});

describe("the changes and git's commits of them", () => {
  it("changes the same files the same way in every copy, each file once before any again", () => {
    const a = path.join(work, "changer-a");
    const b = path.join(work, "changer-b");
    const files = smallTree(a, 7);
    smallTree(b, 7);
    const change = fileChanger([a, b], files);
    const seen: string[] = [];
    for (let step = 0; step < 3; step++) {
      const changed = change(3, `step-${step}`);
      expect(changed.bytes).toBe(changed.paths.reduce((sum, rel) => sum + fs.statSync(path.join(a, rel)).size, 0));
      seen.push(...changed.paths);
    }
    expect(new Set(seen.slice(0, 7)).size).toBe(7);
    for (const rel of files) expect(fs.readFileSync(path.join(b, rel), "utf8")).toBe(fs.readFileSync(path.join(a, rel), "utf8"));
    expect(seen.some((rel) => fs.readFileSync(path.join(a, rel), "utf8").includes("// change-cost step-2"))).toBe(true);
  });

  it("commits given paths into the same tree `git add -A && git commit` makes", () => {
    const sides = ["plumbing", "porcelain"].map((name) => ({ tree: path.join(work, name, "tree"), scratch: path.join(work, name), tool: shadowGit() }));
    let files: string[] = [];
    for (const side of sides) {
      files = smallTree(side.tree, 12);
      side.tool.setup(side);
      side.tool.checkpoint();
    }
    const [plumbing, porcelain] = sides as [(typeof sides)[number], (typeof sides)[number]];
    const change = fileChanger([plumbing.tree, porcelain.tree], files);
    for (let step = 0; step < 3; step++) {
      const changed = change(4, `commit-${step}`);
      const commit = plumbing.tool.commitPaths(changed.paths);
      porcelain.tool.checkpoint();
      expect(git(plumbing.tool.gitDir(), "rev-parse", "HEAD")).toBe(commit);
      expect(git(plumbing.tool.gitDir(), "rev-parse", "HEAD^{tree}")).toBe(git(porcelain.tool.gitDir(), "rev-parse", "HEAD^{tree}"));
      expect(git(plumbing.tool.gitDir(), "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split("\n").sort()).toEqual([...new Set(changed.paths)].sort());
    }
  });
});

describe("sizes", () => {
  it("empties the SQLite write-ahead log into the database while another connection keeps it open", () => {
    const dataDir = path.join(work, "data");
    fs.mkdirSync(dataDir);
    const file = path.join(dataDir, "safetynet.db");
    const server = new Database(file);
    try {
      server.pragma("journal_mode = WAL");
      server.exec("CREATE TABLE t (v TEXT)");
      const insert = server.prepare("INSERT INTO t (v) VALUES (?)");
      for (let i = 0; i < 200; i++) insert.run("x".repeat(500));
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
      const answer = checkpointWal(dataDir);
      expect(answer?.busy).toBe(0);
      expect(fs.statSync(`${file}-wal`).size).toBe(0);
      expect(server.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 200 });
    } finally {
      server.close();
    }
    expect(checkpointWal(path.join(work, "no-data"))).toBeNull();
  });
});

describe("the rollback check", () => {
  it("aborts on a file whose permission bits are not as generated, beyond the executable bit", () => {
    const dir = path.join(work, "modes");
    const [secret, other] = smallTree(dir, 2) as [string, string];
    fs.chmodSync(path.join(dir, secret), 0o600);
    const expected = modesOf(dir);
    expect(expected.get(secret)).toBe(0o600);
    expect(() => assertSameModes(dir, expected, "the tree")).not.toThrow();
    fs.chmodSync(path.join(dir, secret), 0o644);
    expect(() => assertSameModes(dir, expected, "the tree")).toThrow(`mode 644, expected 600: ${secret}`);
    fs.chmodSync(path.join(dir, secret), 0o600);
    fs.rmSync(path.join(dir, other));
    expect(() => assertSameModes(dir, expected, "the tree")).not.toThrow(); // a missing path is assertSameTree's to report
  });
});

describe("verdicts", () => {
  const result = (ms: number) => ({
    apiOperations: { medians: { api: { unchanged: ms, changed: ms, rollback: ms }, git: { unchanged: 1000, changed: 1000, rollback: 1000 } } },
    oneFile: { data: 2000, git: 1000 },
    steps: { data: 1.3e6, allowance: 1e6 },
    history: { hot: { ms: 50 } },
    retention: { sec: 30, verify: { exitCode: 0 } },
    memory: { server: { rssMb: 300, peakMb: 400 }, cliFirst: { peakMb: 250 }, cliCold: { peakMb: 250 } },
  });
  const failed = (verdicts: Verdict[]) => verdicts.filter((v) => v.pass === false).map((v) => v.what);

  it("passes at each limit and fails above it, with the scale limits for a scale run", () => {
    expect(failed(changeCostVerdicts(result(30), changeCostTargets({ huge: false })))).toEqual([]);
    expect(failed(changeCostVerdicts(result(31), changeCostTargets({ huge: false })))).toEqual(["unchanged (ms)"]);
    expect(failed(changeCostVerdicts(result(251), changeCostTargets({ huge: false })))).toEqual(["unchanged (ms)", "unchanged (× git)", "changed (ms)", "changed (× git)", "rollback (ms)", "rollback (× git)"]);
    expect(failed(changeCostVerdicts(result(60), changeCostTargets({ huge: true })))).toEqual([]);
    expect(failed(changeCostVerdicts(result(61), changeCostTargets({ huge: true })))).toEqual(["unchanged (ms)"]);
  });

  it("fails the retention row when verify --all did not exit 0, and counts a missing measurement as neither", () => {
    const r = result(10);
    r.retention.verify.exitCode = 4;
    expect(failed(changeCostVerdicts(r, changeCostTargets({ huge: false })))).toEqual(["verify --all after retention"]);
    const unmeasured = { ...result(10), memory: { server: null, cliFirst: { peakMb: null }, cliCold: { peakMb: null } } };
    const verdicts = changeCostVerdicts(unmeasured, changeCostTargets({ huge: false }));
    expect(verdicts.filter((v) => v.pass === null).map((v) => v.what)).toEqual(["server RSS after the runs (MB)", "CLI peak RSS, first checkpoint (MB)", "CLI peak RSS, cold checkpoint (MB)"]);
  });
});

describe("the engine driver", () => {
  it("bundles and checkpoints a tree (its native dependencies stay outside the bundle)", async () => {
    await bundleDriver();
    const tree = path.join(work, "engine-tree");
    smallTree(tree, 5);
    const driver = new EngineDriver({ SAFETYNET_ALLOWED_ROOTS: work });
    try {
      await driver.request({ op: "open", dataDir: path.join(work, "engine-data"), cwd: work });
      await driver.request({ op: "add", name: "app", root: tree });
      const created = await driver.request({ op: "checkpoint", component: "app" });
      expect(created.files).toBe(5);
      expect(created.id).toMatch(/^cp_/);
    } finally {
      await driver.close();
    }
  });
});
