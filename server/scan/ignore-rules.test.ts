import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import { createIgnoreRules } from "./ignore-rules";

let tmp: string;
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-ignore-")));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(rel: string, content = ""): void {
  const abs = path.join(tmp, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}

describe("built-in and extra excludes", () => {
  it("skips node_modules, .next, dist, .safetynet at any depth, and .git at the root only", () => {
    const rules = createIgnoreRules(tmp);
    for (const name of ["node_modules", ".git", ".next", "dist", ".safetynet"]) {
      expect(rules.isIgnoredDir(name)).toBe(true);
      expect(rules.isIgnoredDir(`pkg/a/${name}`)).toBe(name !== ".git");
    }
    expect(rules.isIgnoredFile(".git")).toBe(true); // the root's own .git file (a linked work tree)
    expect(rules.isIgnoredFile("vendor/lib/.git")).toBe(false); // a nested submodule's .git file: content
    expect(rules.isIgnoredFile("vendor/lib/.git/HEAD")).toBe(false);
    expect(rules.isIgnoredFile("vendor/lib/.git/objects/pack/pack-1.pack")).toBe(false);
    expect(rules.isIgnoredDir("src")).toBe(false);
    expect(rules.isIgnoredDir("distribution")).toBe(false);
    expect(rules.isIgnoredFile("src/dist.ts")).toBe(false);
    expect(rules.isIgnoredDir("")).toBe(false);
  });

  it("skips git's lock and temporary files inside a nested .git, and nested .git folders a component excludes", () => {
    const rules = createIgnoreRules(tmp);
    expect(rules.isIgnoredFile("vendor/lib/.git/index.lock")).toBe(true);
    expect(rules.isIgnoredFile("vendor/lib/.git/refs/heads/main.lock")).toBe(true);
    expect(rules.isIgnoredFile("vendor/lib/.git/objects/ab/tmp_obj_Xy12")).toBe(true);
    expect(rules.isIgnoredFile("vendor/lib/.git/objects/pack/tmp_pack_Q1")).toBe(true);
    expect(rules.isIgnoredFile("src/deps.lock")).toBe(false);
    expect(rules.isIgnoredFile("src/tmp_notes.txt")).toBe(false);
    const excluding = createIgnoreRules(tmp, { exclude: ["**/.git"] });
    expect(excluding.isIgnoredDir("vendor/lib/.git")).toBe(true);
    expect(excluding.isIgnoredFile("vendor/lib/.git/HEAD")).toBe(true);
  });

  it("skips the cookie files Watchman makes to sync its queries, at any depth", () => {
    const rules = createIgnoreRules(tmp);
    expect(rules.isIgnoredFile(".watchman-cookie-host-123-4")).toBe(true);
    expect(rules.isIgnoredFile("src/.git-not/.watchman-cookie-host-9-1")).toBe(true);
    expect(rules.isIgnoredFile("watchman-cookie.txt")).toBe(false);
    expect(rules.isIgnoredFile(".watchman-cookie")).toBe(false);
  });

  it("standalone queries (no context) also check ancestors", () => {
    write(".gitignore", "build/\n");
    const rules = createIgnoreRules(tmp, { exclude: ["gen/**"], extraExcludes: ["data"] });
    expect(rules.isIgnoredFile("node_modules/pkg/index.js")).toBe(true);
    expect(rules.isIgnoredFile(".git/config")).toBe(true);
    expect(rules.isIgnoredFile("a/.git/config")).toBe(false);
    expect(rules.isIgnoredDir("build/sub")).toBe(true);
    expect(rules.isIgnoredFile("src/build/x.js")).toBe(true);
    expect(rules.isIgnoredFile("data/db.sqlite")).toBe(true);
    expect(rules.isIgnoredFile("src/a.ts")).toBe(false);
    // with a context the caller vouches for the parent: only the entry itself is judged
    const ctx = rules.enterDir("node_modules", path.join(tmp, "node_modules"), false);
    expect(rules.isIgnoredFile("node_modules/index.js", ctx)).toBe(false);
  });

  it("skips extra root-relative excludes exactly", () => {
    const rules = createIgnoreRules(tmp, { extraExcludes: ["./data/sn/", "."] });
    expect(rules.isIgnoredDir("data/sn")).toBe(true);
    expect(rules.isIgnoredDir("data")).toBe(false);
    expect(rules.isIgnoredDir("other/data/sn")).toBe(false);
    expect(rules.isIgnoredFile("data/snx")).toBe(false);
  });

  it("refuses unsafe extra excludes", () => {
    expect(() => createIgnoreRules(tmp, { extraExcludes: ["../x"] })).toThrow(InvalidInputError);
  });
});

describe(".gitignore semantics", () => {
  beforeEach(() => {
    write(".gitignore", ["*.log", "!keep.log", "build/", "/top-only.txt", "secret*", "# comment", ""].join("\n"));
    write("pkg/.gitignore", ["local.txt", "/anchored.txt", "!important.log", "!secret-ok"].join("\n"));
    write("pkg/deep/.gitignore", ["*.tmp"].join("\n"));
  });

  it("applies the root .gitignore everywhere below it", () => {
    const rules = createIgnoreRules(tmp);
    const root = rules.enterDir("", tmp);
    expect(rules.isIgnoredFile("a.log", root)).toBe(true);
    expect(rules.isIgnoredFile("keep.log", root)).toBe(false);
    expect(rules.isIgnoredFile("x/y/a.log")).toBe(true);
    expect(rules.isIgnoredFile("top-only.txt")).toBe(true);
    expect(rules.isIgnoredFile("x/top-only.txt")).toBe(false);
    expect(rules.isIgnoredFile(".gitignore")).toBe(false);
  });

  it("matches dir-only patterns against directories only", () => {
    const rules = createIgnoreRules(tmp);
    expect(rules.isIgnoredDir("build")).toBe(true);
    expect(rules.isIgnoredDir("x/build")).toBe(true);
    expect(rules.isIgnoredFile("build")).toBe(false);
  });

  it("applies nested .gitignore files to their subtree, relative to their dir, deeper wins", () => {
    const rules = createIgnoreRules(tmp);
    const root = rules.enterDir("", tmp);
    const pkg = rules.enterDir("pkg", path.join(tmp, "pkg"));
    expect(rules.isIgnoredFile("pkg/local.txt", pkg)).toBe(true);
    expect(rules.isIgnoredFile("local.txt", root)).toBe(false);
    expect(rules.isIgnoredFile("pkg/anchored.txt", pkg)).toBe(true);
    expect(rules.isIgnoredFile("pkg/sub/anchored.txt")).toBe(false);
    expect(rules.isIgnoredFile("pkg/sub/local.txt")).toBe(true);
    // negations in the deeper file override the root file
    expect(rules.isIgnoredFile("pkg/important.log", pkg)).toBe(false);
    expect(rules.isIgnoredFile("pkg/other.log", pkg)).toBe(true);
    expect(rules.isIgnoredFile("pkg/secret-ok", pkg)).toBe(false);
    expect(rules.isIgnoredFile("pkg/secret-no", pkg)).toBe(true);
    expect(rules.isIgnoredFile("important.log", root)).toBe(true);
    // three levels
    expect(rules.isIgnoredFile("pkg/deep/x.tmp")).toBe(true);
    expect(rules.isIgnoredFile("pkg/x.tmp")).toBe(false);
    expect(rules.isIgnoredFile("pkg/deep/more/a.log")).toBe(true);
  });

  it("is case-sensitive on Linux like git", () => {
    if (process.platform !== "linux") return;
    const rules = createIgnoreRules(tmp);
    expect(rules.isIgnoredFile("A.LOG")).toBe(false);
  });

  it("skips the read when the caller knows there is no .gitignore", () => {
    const rules = createIgnoreRules(tmp);
    const ctx = rules.enterDir("", tmp, false);
    expect(rules.isIgnoredFile("a.log", ctx)).toBe(false);
  });

  it("never reads a .gitignore through a symlink", () => {
    const outside = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-ignore-out-")));
    try {
      writeFileSync(path.join(outside, ".gitignore"), "*.md\n");
      mkdirSync(path.join(tmp, "viaLinkedFile"));
      symlinkSync(path.join(outside, ".gitignore"), path.join(tmp, "viaLinkedFile/.gitignore"));
      symlinkSync(outside, path.join(tmp, "linkedDir"));
      const rules = createIgnoreRules(tmp);
      expect(rules.isIgnoredFile("viaLinkedFile/a.md")).toBe(false);
      // on-demand entering of a symlinked "directory" does not read through it
      expect(rules.isIgnoredFile("linkedDir/a.md")).toBe(false);
      expect(rules.isIgnoredFile("linkedDir/deeper/a.md")).toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("ignores a .gitignore that is a directory", () => {
    mkdirSync(path.join(tmp, "odd/.gitignore"), { recursive: true });
    const rules = createIgnoreRules(tmp);
    expect(rules.isIgnoredFile("odd/x.txt")).toBe(false);
  });
});

describe("include / exclude globs", () => {
  it("include applies to files only; exclude to files and dirs", () => {
    const rules = createIgnoreRules(tmp, { include: ["src/**"], exclude: ["**/*.snap", "src/gen/**", "**/.cache"] });
    expect(rules.includesEverything).toBe(false);
    expect(rules.isIgnoredFile("src/a.ts")).toBe(false);
    expect(rules.isIgnoredFile("src/.env")).toBe(false); // dot: true
    expect(rules.isIgnoredFile("README.md")).toBe(true);
    expect(rules.isIgnoredDir("docs")).toBe(false); // dirs are not filtered by include
    expect(rules.dirMatchesInclude("docs")).toBe(false);
    expect(rules.dirMatchesInclude("src")).toBe(true);
    expect(rules.isIgnoredFile("src/x/a.snap")).toBe(true);
    expect(rules.isIgnoredDir("src/gen")).toBe(true);
    expect(rules.isIgnoredFile("src/gen/a.ts")).toBe(true);
    expect(rules.isIgnoredDir("a/.cache")).toBe(true);
  });

  it("defaults to including everything", () => {
    const rules = createIgnoreRules(tmp, { include: [] });
    expect(rules.includesEverything).toBe(true);
    expect(rules.isIgnoredFile(".env")).toBe(false);
    expect(rules.dirMatchesInclude("anything")).toBe(true);
  });
});
