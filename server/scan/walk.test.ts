import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InvalidInputError, NotFoundError, OperationFailedError } from "../errors";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import { scanComponent } from "./walk";

// Pass-through spy so tests can count directory reads and inject errors.
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return { ...real, readdirSync: vi.fn(real.readdirSync) };
});
const readdirSpy = vi.mocked(fs.readdirSync);
const realReaddir = (await vi.importActual<typeof import("node:fs")>("node:fs")).readdirSync;

let tmp: string;
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-walk-")));
  readdirSpy.mockClear();
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(rel: string, content = "x"): void {
  const abs = path.join(tmp, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}
const paths = (entries: ScannedEntry[]): string[] => entries.map((e) => e.path);
const byPath = (entries: ScannedEntry[], p: string): ScannedEntry | undefined => entries.find((e) => e.path === p);
const readDirs = (): string[] => readdirSpy.mock.calls.map((c) => path.relative(tmp, String(c[0])));

describe("scanComponent: what it emits", () => {
  it("emits files, all dirs (empty ones too, not the root) and symlinks, sorted by path", () => {
    write("b.txt", "hello");
    write("a/x.ts");
    write("a-b/y.ts");
    write("a/deep/z.md");
    mkdirSync(path.join(tmp, "empty"));
    symlinkSync("a/x.ts", path.join(tmp, "link-in"));
    symlinkSync("../../etc/passwd", path.join(tmp, "link-out"));
    symlinkSync("missing", path.join(tmp, "link-dangling"));
    symlinkSync("a", path.join(tmp, "link-dir"));
    const entries = scanComponent(tmp);
    expect(paths(entries)).toEqual([
      "a",
      "a-b",
      "a-b/y.ts",
      "a/deep",
      "a/deep/z.md",
      "a/x.ts",
      "b.txt",
      "empty",
      "link-dangling",
      "link-dir",
      "link-in",
      "link-out",
    ]);
    const sorted = [...paths(entries)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(paths(entries)).toEqual(sorted);

    const file = byPath(entries, "b.txt");
    expect(file).toMatchObject({ kind: "file", size: 5 });
    expect(file?.linkTarget).toBeUndefined();
    const stat = fs.lstatSync(path.join(tmp, "b.txt"));
    expect(file).toMatchObject({ mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, mode: stat.mode & 0o7777 });

    expect(byPath(entries, "empty")).toMatchObject({ kind: "dir", size: 0 });
    expect(byPath(entries, "link-in")).toMatchObject({ kind: "symlink", linkTarget: "a/x.ts" });
    expect(byPath(entries, "link-out")).toMatchObject({ kind: "symlink", linkTarget: "../../etc/passwd" });
    expect(byPath(entries, "link-dangling")).toMatchObject({ kind: "symlink", linkTarget: "missing" });
    // a symlink to a dir is a link, never descended
    expect(byPath(entries, "link-dir")).toMatchObject({ kind: "symlink", linkTarget: "a" });
    expect(paths(entries).some((p) => p.startsWith("link-dir/"))).toBe(false);
  });

  it("keeps permission bits only", () => {
    write("run.sh");
    chmodSync(path.join(tmp, "run.sh"), 0o4755);
    mkdirSync(path.join(tmp, "d"));
    chmodSync(path.join(tmp, "d"), 0o750);
    const entries = scanComponent(tmp);
    expect(byPath(entries, "run.sh")?.mode).toBe(0o4755);
    expect(byPath(entries, "d")?.mode).toBe(0o750);
  });

  it("skips FIFOs and sockets", () => {
    write("a.txt");
    try {
      execFileSync("mkfifo", [path.join(tmp, "pipe")]);
    } catch {
      return; // no mkfifo here
    }
    expect(paths(scanComponent(tmp))).toEqual(["a.txt"]);
  });

  it("returns [] for an empty root", () => {
    expect(scanComponent(tmp)).toEqual([]);
  });

  it("fails clearly for a missing or non-directory root", () => {
    expect(() => scanComponent(path.join(tmp, "nope"))).toThrow(NotFoundError);
    write("f");
    expect(() => scanComponent(path.join(tmp, "f"))).toThrow(InvalidInputError);
  });

  it("names an unreadable directory", () => {
    write("ok/a.txt");
    write("locked/b.txt");
    const err = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    readdirSpy.mockImplementation(((dir: fs.PathLike, options: { withFileTypes: true }) => {
      if (String(dir).endsWith("/locked")) throw err;
      return realReaddir(dir, options);
    }) as typeof fs.readdirSync);
    try {
      expect(() => scanComponent(tmp)).toThrow(OperationFailedError);
      expect(() => scanComponent(tmp)).toThrow(`permission denied: ${path.join(tmp, "locked")}`);
    } finally {
      readdirSpy.mockImplementation(realReaddir);
    }
  });

  it("names an unreadable directory for real when not running as root", () => {
    if (process.getuid?.() === 0) return; // root reads everything
    write("locked/b.txt");
    chmodSync(path.join(tmp, "locked"), 0o000);
    try {
      expect(() => scanComponent(tmp)).toThrow(path.join(tmp, "locked"));
    } finally {
      chmodSync(path.join(tmp, "locked"), 0o755);
    }
  });
});

describe("scanComponent: ignore rules", () => {
  it("does not descend built-in excludes, .gitignored or excluded dirs", () => {
    write("src/a.ts");
    write("node_modules/pkg/index.js");
    write("src/node_modules/x.js");
    write(".git/HEAD");
    write("dist/out.js");
    write(".next/x");
    write(".safetynet/objects/ab");
    write("build/out.js");
    write("gen/g.ts");
    write("debug.log");
    write(".gitignore", "build/\n*.log\n");
    const entries = scanComponent(tmp, { exclude: ["gen/**"] });
    expect(paths(entries)).toEqual([".gitignore", "src", "src/a.ts"]);
    const read = readDirs();
    for (const d of ["node_modules", "src/node_modules", ".git", "dist", ".next", ".safetynet", "build", "gen"]) {
      expect(read).not.toContain(d);
    }
  });

  it("skips the data dir given as an extra exclude", () => {
    write("src/a.ts");
    write("var/sn-data/db.sqlite");
    expect(paths(scanComponent(tmp, { extraExcludes: ["var/sn-data"] }))).toEqual(["src", "src/a.ts", "var"]);
  });

  it("with a custom include, emits only dirs that match or hold emitted entries", () => {
    write("src/a.ts");
    write("src/b.md");
    mkdirSync(path.join(tmp, "src/empty"), { recursive: true });
    write("docs/readme.md");
    mkdirSync(path.join(tmp, "other"));
    const entries = scanComponent(tmp, { include: ["src/**"] });
    expect(paths(entries)).toEqual(["src", "src/a.ts", "src/b.md", "src/empty"]);
    expect(paths(scanComponent(tmp, { include: ["**/*.ts"] }))).toEqual(["src", "src/a.ts"]);
  });

  it("agrees with git on which files are not ignored", () => {
    const layout: Record<string, string> = {
      ".gitignore": "*.log\n!keep.log\nbuild/\n/root-only.txt\ntmp*\n",
      "a/.gitignore": "local.txt\n/anchored.txt\n!important.log\n*.bak\n!keep.bak\n",
      "a/b/.gitignore": "*.md\n!README.md\nsub/\n",
      "keep.log": "",
      "x.log": "",
      "root-only.txt": "",
      "c/root-only.txt": "",
      "build/o.js": "",
      "c/build/o.js": "",
      "tmp1/file": "",
      "a/local.txt": "",
      "a/anchored.txt": "",
      "a/z/anchored.txt": "",
      "a/important.log": "",
      "a/other.log": "",
      "a/f.bak": "",
      "a/keep.bak": "",
      "a/b/doc.md": "",
      "a/b/README.md": "",
      "a/b/sub/inner.ts": "",
      "a/b/c/sub/deep.ts": "",
      "a/b/c/local.txt": "",
      "a/b/c/ok.ts": "",
      "src/index.ts": "",
    };
    for (const [rel, content] of Object.entries(layout)) write(rel, content);
    try {
      execFileSync("git", ["init", "-q"], { cwd: tmp, stdio: "ignore" });
    } catch {
      return; // git not available
    }
    const gitFiles = execFileSync("git", ["-c", "core.excludesFile=/dev/null", "ls-files", "--others", "--exclude-standard"], { cwd: tmp, encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(gitFiles).toContain("a/b/c/ok.ts");
    expect(gitFiles).not.toContain("a/b/c/local.txt");
    const ours = scanComponent(tmp)
      .filter((e) => e.kind === "file")
      .map((e) => e.path);
    expect(ours).toEqual(gitFiles);
  });
});

describe("scanComponent: scope paths", () => {
  beforeEach(() => {
    write("a/one.ts");
    write("a/sub/two.ts");
    write("a/sub/deeper/three.ts");
    write("b/four.ts");
    write("c/five.ts");
    write("top.txt");
    write("a/sub/.gitignore", "*.gen.ts\n");
    write("a/sub/x.gen.ts");
    write("node_modules/m/index.js");
    symlinkSync("a", path.join(tmp, "alink"));
  });

  it("emits listed files and listed dirs' subtrees, not their ancestors", () => {
    const entries = scanComponent(tmp, { scope: { kind: "paths", paths: ["a/sub", "top.txt", "c/five.ts"] } });
    expect(paths(entries)).toEqual(["a/sub", "a/sub/.gitignore", "a/sub/deeper", "a/sub/deeper/three.ts", "a/sub/two.ts", "c/five.ts", "top.txt"]);
  });

  it("walks only the needed subtrees", () => {
    scanComponent(tmp, { scope: { kind: "paths", paths: ["a/sub/deeper", "top.txt"] } });
    expect(readDirs().sort()).toEqual(["a/sub/deeper"]);
  });

  it("treats missing, ignored and through-symlink paths as absent", () => {
    const entries = scanComponent(tmp, {
      scope: { kind: "paths", paths: ["nope", "a/nope/x", "top.txt/x", "alink/one.ts", "alink", "node_modules/m", "a/sub/x.gen.ts"] },
    });
    expect(paths(entries)).toEqual(["alink"]);
    expect(byPath(entries, "alink")).toMatchObject({ kind: "symlink", linkTarget: "a" });
  });

  it("deduplicates overlapping paths and normalizes them", () => {
    const entries = scanComponent(tmp, { scope: { kind: "paths", paths: ["./a/sub/", "a/sub/two.ts", "a/sub", "a/sub/deeper/three.ts"] } });
    expect(paths(entries)).toEqual(["a/sub", "a/sub/.gitignore", "a/sub/deeper", "a/sub/deeper/three.ts", "a/sub/two.ts"]);
  });

  it("'.' means the whole component; an empty list means nothing", () => {
    expect(scanComponent(tmp, { scope: { kind: "paths", paths: ["."] } })).toEqual(scanComponent(tmp));
    expect(scanComponent(tmp, { scope: { kind: "paths", paths: [] } })).toEqual([]);
  });

  it("refuses unsafe scope paths", () => {
    expect(() => scanComponent(tmp, { scope: { kind: "paths", paths: ["../etc"] } })).toThrow(InvalidInputError);
    expect(() => scanComponent(tmp, { scope: { kind: "paths", paths: ["/etc"] } })).toThrow(InvalidInputError);
  });

  it("equals the full scan restricted to the scope", () => {
    const opts = { include: ["a/**", "b/**", "*.txt"], exclude: ["**/three.ts"] };
    const full = scanComponent(tmp, opts);
    for (const scope of [["a"], ["a/sub", "b"], ["a/sub/two.ts", "c"], ["top.txt", "a/sub/deeper"]]) {
      const inScope = (p: string) => scope.some((s) => p === s || p.startsWith(`${s}/`));
      expect(scanComponent(tmp, { ...opts, scope: { kind: "paths", paths: scope } })).toEqual(full.filter((e) => inScope(e.path)));
    }
  });
});
