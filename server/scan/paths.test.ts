import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import {
  assertNoSymlinkEscape,
  assertRootAllowed,
  normalizeRelativePath,
  resolveInsideRoot,
  symlinkPointsOutside,
} from "./paths";

let tmp: string;
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-paths-")));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function expectInvalid(fn: () => unknown, mentions: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  expect((caught as Error).message).toContain(mentions);
}

describe("normalizeRelativePath", () => {
  it.each([
    ["a/b", "a/b"],
    ["./a//b/", "a/b"],
    ["a/./b/.", "a/b"],
    [".", ""],
    ["./", ""],
    ["a\\b", "a\\b"],
    ["a..b/...", "a..b/..."],
    [".hidden/x", ".hidden/x"],
  ])("%j → %j", (input, expected) => {
    expect(normalizeRelativePath(input)).toBe(expected);
  });

  it.each(["", "   ", "a\0b", "/etc/passwd", "/", "C:\\x", "c:/x", "\\\\server\\share", "\\x", "..", "../x", "a/../b", "a/..", "..\\x", "a\\..\\b"])(
    "rejects %j naming it",
    (input) => {
      const mention = input.trim() === "" ? "empty" : input.includes("\0") ? 'NUL byte: "a\\u0000b"' : input;
      expectInvalid(() => normalizeRelativePath(input), mention);
    },
  );
});

describe("resolveInsideRoot", () => {
  it("resolves inside the root", () => {
    expect(resolveInsideRoot(tmp, "a/b")).toBe(path.join(tmp, "a/b"));
    expect(resolveInsideRoot(tmp, ".")).toBe(tmp);
    expect(resolveInsideRoot(`${tmp}/`, "./x")).toBe(path.join(tmp, "x"));
  });
  it("refuses escapes", () => {
    expectInvalid(() => resolveInsideRoot(tmp, "../x"), "../x");
    expectInvalid(() => resolveInsideRoot(tmp, "/etc"), "/etc");
  });
});

describe("symlinkPointsOutside", () => {
  it("resolves relative targets against the link's directory", () => {
    expect(symlinkPointsOutside(tmp, "a/link", "../b")).toBe(false);
    expect(symlinkPointsOutside(tmp, "a/link", "../../b")).toBe(true);
    expect(symlinkPointsOutside(tmp, "link", "..")).toBe(true);
    expect(symlinkPointsOutside(tmp, "link", ".")).toBe(false);
    expect(symlinkPointsOutside(tmp, "a/b/link", "../../c/d")).toBe(false);
  });
  it("takes absolute targets as they are", () => {
    expect(symlinkPointsOutside(tmp, "link", "/etc/passwd")).toBe(true);
    expect(symlinkPointsOutside(tmp, "link", path.join(tmp, "x"))).toBe(false);
    expect(symlinkPointsOutside(tmp, "link", `${tmp}-sibling/x`)).toBe(true);
  });
});

describe("assertNoSymlinkEscape", () => {
  beforeEach(() => {
    mkdirSync(path.join(tmp, "real/sub"), { recursive: true });
    writeFileSync(path.join(tmp, "real/file.txt"), "x");
    symlinkSync("real", path.join(tmp, "linkdir"));
    symlinkSync("real/file.txt", path.join(tmp, "inlink"));
    symlinkSync("../outside", path.join(tmp, "outlink"));
    symlinkSync("/etc/passwd", path.join(tmp, "real/abslink"));
  });

  it("accepts plain paths, missing paths and in-root links", () => {
    expect(() => assertNoSymlinkEscape(tmp, "real/file.txt")).not.toThrow();
    expect(() => assertNoSymlinkEscape(tmp, "real/missing/deeper")).not.toThrow();
    expect(() => assertNoSymlinkEscape(tmp, "nope")).not.toThrow();
    expect(() => assertNoSymlinkEscape(tmp, "inlink")).not.toThrow();
    expect(() => assertNoSymlinkEscape(tmp, "real/file.txt/below")).not.toThrow();
    expect(() => assertNoSymlinkEscape(tmp, ".")).not.toThrow();
  });

  it("refuses a path through a symlinked directory, naming it", () => {
    expectInvalid(() => assertNoSymlinkEscape(tmp, "linkdir/file.txt"), "linkdir");
    expectInvalid(() => assertNoSymlinkEscape(tmp, "linkdir/sub/x"), "linkdir");
  });

  it("refuses a final symlink pointing outside, naming link and target", () => {
    expectInvalid(() => assertNoSymlinkEscape(tmp, "outlink"), "outlink -> ../outside");
    expectInvalid(() => assertNoSymlinkEscape(tmp, "real/abslink"), "/etc/passwd");
  });

  it("skips the final check when asked", () => {
    expect(() => assertNoSymlinkEscape(tmp, "outlink", { checkFinal: false })).not.toThrow();
    // but never the ancestors
    expectInvalid(() => assertNoSymlinkEscape(tmp, "linkdir/x", { checkFinal: false }), "linkdir");
  });

  it("validates the syntax first", () => {
    expectInvalid(() => assertNoSymlinkEscape(tmp, "../x"), "../x");
  });
});

describe("assertRootAllowed", () => {
  it("returns the realpath of an allowed root", () => {
    mkdirSync(path.join(tmp, "ws/comp"), { recursive: true });
    expect(assertRootAllowed(path.join(tmp, "ws/comp"), [path.join(tmp, "ws")])).toBe(path.join(tmp, "ws/comp"));
    expect(assertRootAllowed(path.join(tmp, "ws"), [path.join(tmp, "ws")])).toBe(path.join(tmp, "ws"));
    expect(assertRootAllowed(path.join(tmp, "ws/comp/"), ["/nonexistent-root", path.join(tmp, "ws")])).toBe(path.join(tmp, "ws/comp"));
  });

  it("resolves symlinks on both sides", () => {
    mkdirSync(path.join(tmp, "ws/comp"), { recursive: true });
    symlinkSync(path.join(tmp, "ws"), path.join(tmp, "wslink"));
    expect(assertRootAllowed(path.join(tmp, "wslink/comp"), [path.join(tmp, "ws")])).toBe(path.join(tmp, "ws/comp"));
    expect(assertRootAllowed(path.join(tmp, "ws/comp"), [path.join(tmp, "wslink")])).toBe(path.join(tmp, "ws/comp"));
  });

  it("refuses a symlinked root that points outside the allowed roots", () => {
    mkdirSync(path.join(tmp, "ws"));
    mkdirSync(path.join(tmp, "elsewhere"));
    symlinkSync(path.join(tmp, "elsewhere"), path.join(tmp, "ws/sneaky"));
    expectInvalid(() => assertRootAllowed(path.join(tmp, "ws/sneaky"), [path.join(tmp, "ws")]), "ws/sneaky");
  });

  it("refuses missing roots, files, and roots outside, naming root and allowed roots", () => {
    mkdirSync(path.join(tmp, "ws"));
    mkdirSync(path.join(tmp, "ws-other"));
    writeFileSync(path.join(tmp, "ws/file"), "x");
    expectInvalid(() => assertRootAllowed(path.join(tmp, "ws/missing"), [path.join(tmp, "ws")]), "does not exist");
    expectInvalid(() => assertRootAllowed(path.join(tmp, "ws/file"), [path.join(tmp, "ws")]), "not a directory");
    // a sibling whose name merely starts with the allowed root's name is outside
    expectInvalid(() => assertRootAllowed(path.join(tmp, "ws-other"), [path.join(tmp, "ws")]), path.join(tmp, "ws"));
    expectInvalid(() => assertRootAllowed(tmp, [path.join(tmp, "ws")]), tmp);
    expectInvalid(() => assertRootAllowed(tmp, []), "outside the allowed roots");
    expectInvalid(() => assertRootAllowed("", [tmp]), "non-empty");
  });
});
