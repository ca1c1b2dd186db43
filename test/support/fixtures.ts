/**
 * Trees the specifications share: one holding every awkward kind of entry a
 * rollback must restore exactly, the edits an agent makes to it, and a small
 * TypeScript project for partial checkpoints.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeTree } from "./workspace";

const OLD = new Date("2001-02-03T04:05:06.789Z");
const OLDER = new Date("1999-12-31T23:59:58.5Z");

export interface EdgeCaseTree {
  /** A file outside the component root that a symlink inside it points to. */
  outsideFile: string;
  outsideContent: Buffer;
}

/**
 * Binary files (one above the 1 MiB streaming threshold), an empty file, unicode
 * and space-containing names, exec and private modes, symlinks (in-root, dangling,
 * absolute and relative pointing outside the root), empty directories, old mtimes
 * on files and directories, and the entries the agent will rename or change type.
 */
export function writeEdgeCaseTree(root: string, outsideDir: string): EdgeCaseTree {
  const outsideFile = path.join(outsideDir, "secret.txt");
  const outsideContent = Buffer.from(`outside the root ${randomBytes(8).toString("hex")}\n`);
  fs.mkdirSync(outsideDir, { recursive: true });
  fs.writeFileSync(outsideFile, outsideContent);
  writeTree(root, {
    "README.md": "# demo\n",
    "bin/blob.bin": Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0]), randomBytes(200_000)]),
    "bin/large.bin": randomBytes(1024 * 1024 + 4099),
    "empty.txt": "",
    "ünïcödé/naïve café.md": "crème brûlée\n",
    "with space/file name with spaces.txt": "spaces\n",
    "日本語.txt": "こんにちは\n",
    "scripts/run.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    "secret.txt": { content: "private\n", mode: 0o600 },
    "links/to-readme": { link: "../README.md" },
    "links/dangling": { link: "does-not-exist" },
    "links/outside-absolute": { link: outsideFile },
    "links/outside-relative": { link: path.relative(path.join(root, "links"), outsideFile) },
    "links/to-dir": { link: "../folder" },
    "empty-dir": { dir: true },
    "nested/empty/deeper": { dir: true, mode: 0o700 },
    "old/timestamp.txt": { content: "old\n", mtime: OLD },
    "folder/a.ts": "export const a = 1;\n",
    "folder/sub/b.ts": "export const b = 2;\n",
    "becomes-dir.txt": "a file that becomes a directory\n",
    "becomes-file/inner.txt": "a directory that becomes a file\n",
    "link-becomes-file": { link: "README.md" },
    "file-becomes-link.txt": "a file that becomes a symlink\n",
  });
  for (const dir of ["folder/sub", "folder", "empty-dir", "nested/empty/deeper", "nested/empty", "nested", "old", "links", "bin"]) {
    fs.utimesSync(path.join(root, dir), OLDER, OLDER);
  }
  return { outsideFile, outsideContent };
}

/** What an agent does to the edge-case tree: every kind of change, plus new files and folders. */
export function editEdgeCaseTree(root: string): void {
  const at = (rel: string) => path.join(root, rel);
  fs.writeFileSync(at("bin/blob.bin"), randomBytes(1000));
  fs.writeFileSync(at("bin/large.bin"), randomBytes(10));
  fs.writeFileSync(at("empty.txt"), "no longer empty\n");
  fs.rmSync(at("ünïcödé/naïve café.md"));
  fs.appendFileSync(at("with space/file name with spaces.txt"), "edited\n");
  fs.chmodSync(at("scripts/run.sh"), 0o644);
  fs.chmodSync(at("secret.txt"), 0o644);
  fs.rmSync(at("links/to-readme"));
  fs.symlinkSync("../secret.txt", at("links/to-readme"));
  fs.rmSync(at("links/outside-absolute"));
  fs.rmdirSync(at("empty-dir"));
  fs.renameSync(at("folder"), at("folder-renamed"));
  fs.rmSync(at("becomes-dir.txt"));
  writeTree(root, { "becomes-dir.txt/inside.txt": "now a directory\n" });
  fs.rmSync(at("becomes-file"), { recursive: true });
  fs.writeFileSync(at("becomes-file"), "now a file\n");
  fs.rmSync(at("link-becomes-file"));
  fs.writeFileSync(at("link-becomes-file"), "now a file\n");
  fs.rmSync(at("file-becomes-link.txt"));
  fs.symlinkSync("README.md", at("file-becomes-link.txt"));
  const now = new Date();
  fs.utimesSync(at("old/timestamp.txt"), now, now);
  writeTree(root, {
    "new file ✨.txt": "created by the agent\n",
    "new-dir/sub/x.bin": randomBytes(300),
    "new-dir/empty": { dir: true },
  });
}

/**
 * A small TypeScript project: `src/cart.ts` has a test, a same-stem sibling and a
 * relative import; `src/other.ts` and `src/util/` are unrelated to it.
 */
export function writeCartProject(root: string): void {
  writeTree(root, {
    "src/cart.ts": 'import { price } from "./price";\nexport const total = (n: number) => n * price;\n',
    "src/cart.test.ts": 'import { total } from "./cart";\ntest("total", () => expect(total(2)).toBe(2));\n',
    "src/cart.css": ".cart { color: red; }\n",
    "src/price.ts": "export const price = 1;\n",
    "src/other.ts": "export const other = true;\n",
    "src/util/format.ts": "export const format = String;\n",
    "src/util/parse.ts": "export const parse = Number;\n",
    "package.json": '{ "name": "cart" }\n',
  });
}
