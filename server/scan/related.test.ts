import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import type { InclusionReason } from "../checkpoints/manifest-types";
import { MAX_SOURCE_BYTES, discoverRelated, resolveJsSpecifier } from "./related";
import { scanComponent } from "./walk";
import { candidatesOnDisk } from "./related-candidates";

let tmp: string;
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-related-")));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function tree(files: Record<string, string | Buffer>): Set<string> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(tmp, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return candidatesOf();
}
function candidatesOf(): Set<string> {
  return new Set(
    scanComponent(tmp)
      .filter((e) => e.kind !== "dir")
      .map((e) => e.path),
  );
}
function related(primaries: string[], depth?: number): Record<string, InclusionReason> {
  return Object.fromEntries(discoverRelated(tmp, candidatesOf(), primaries, depth));
}

describe("tests of a primary", () => {
  it("finds JS/TS tests and specs in the same dir and in __tests__", () => {
    tree({
      "src/x.ts": "",
      "src/x.test.ts": "",
      "src/x.spec.tsx": "",
      "src/x.test.js": "",
      "src/__tests__/x.ts": "",
      "src/__tests__/x.test.tsx": "",
      "src/__tests__/y.test.ts": "",
      "src/xy.test.ts": "",
      "src/y.test.ts": "",
    });
    expect(related(["src/x.ts"], 0)).toEqual({
      "src/x.ts": "primary",
      "src/x.test.ts": "related-test",
      "src/x.spec.tsx": "related-test",
      "src/x.test.js": "related-test",
      "src/__tests__/x.ts": "related-test",
      "src/__tests__/x.test.tsx": "related-test",
    });
  });

  it("finds Python and Go tests", () => {
    tree({
      "pkg/mod.py": "",
      "pkg/test_mod.py": "",
      "pkg/mod_test.py": "",
      "pkg/tests/test_mod.py": "",
      "tests/test_mod.py": "",
      "tests/test_other.py": "",
      "go/srv.go": "",
      "go/srv_test.go": "",
    });
    expect(related(["pkg/mod.py", "go/srv.go"], 0)).toEqual({
      "pkg/mod.py": "primary",
      "go/srv.go": "primary",
      "pkg/test_mod.py": "related-test",
      "pkg/mod_test.py": "related-test",
      "pkg/tests/test_mod.py": "related-test",
      "tests/test_mod.py": "related-test",
      "go/srv_test.go": "related-test",
    });
  });
});

describe("siblings", () => {
  it("finds same-stem files in the same dir that are not tests", () => {
    tree({
      "src/x.ts": "",
      "src/x.md": "",
      "src/x.json": "",
      "src/x.yml": "",
      "src/x.yaml": "",
      "src/x.css": "",
      "src/x.module.css": "",
      "src/x.test.ts": "",
      "src/xx.md": "",
      "other/x.md": "",
    });
    expect(related(["src/x.ts"], 0)).toEqual({
      "src/x.ts": "primary",
      "src/x.test.ts": "related-test",
      "src/x.md": "sibling",
      "src/x.json": "sibling",
      "src/x.yml": "sibling",
      "src/x.yaml": "sibling",
      "src/x.css": "sibling",
      "src/x.module.css": "sibling",
    });
  });

  it("works at the root and for extensionless names", () => {
    tree({ "Makefile": "", "Makefile.md": "", "main.go": "", "main.md": "" });
    expect(related(["Makefile"], 0)).toEqual({ Makefile: "primary", "Makefile.md": "sibling" });
  });
});

describe("relative imports (TS/JS)", () => {
  it("follows every import form, with extension and index resolution", () => {
    tree({
      "src/x.ts": [
        `import a from './a';`,
        `import type { B } from "./b.js";`,
        `import {`,
        `  c1,`,
        `  c2,`,
        `} from './c'`,
        `import './side-effect';`,
        `export * from "./d";`,
        `export { e } from './e.mjs';`,
        `const f = require("./f");`,
        `const g = await import('./g');`,
        "const h = import(`./h`);",
        `import dir from './dir';`,
        `import up from '../up';`,
        `import pkg from 'react';`,
        `import scoped from '@scope/pkg';`,
        `import missing from './missing';`,
        `import styles from './x.module.css?inline';`,
        `const dyn = import(\`./\${name}\`);`,
      ].join("\n"),
      "src/a.tsx": "",
      "src/b.ts": "",
      "src/c.js": "",
      "src/side-effect.mjs": "",
      "src/d.d.ts": "",
      "src/e.mts": "",
      "src/f.cjs": "",
      "src/g.jsx": "",
      "src/h.ts": "",
      "src/dir/index.ts": "",
      "up.ts": "",
      "src/x.module.css": "",
      "node_modules/react/index.js": "",
    });
    expect(related(["src/x.ts"], 1)).toEqual({
      "src/x.ts": "primary",
      "src/x.module.css": "sibling",
      "src/a.tsx": "related-import",
      "src/b.ts": "related-import",
      "src/c.js": "related-import",
      "src/side-effect.mjs": "related-import",
      "src/d.d.ts": "related-import",
      "src/e.mts": "related-import",
      "src/f.cjs": "related-import",
      "src/g.jsx": "related-import",
      "src/h.ts": "related-import",
      "src/dir/index.ts": "related-import",
      "up.ts": "related-import",
    });
  });

  it("prefers the exact file, then TS sources for .js specifiers", () => {
    const c = new Set(["y.js", "y.ts", "z.ts", "w/index.tsx", "w.json"]);
    expect(resolveJsSpecifier("", "./y.js", c)).toBe("y.js");
    expect(resolveJsSpecifier("", "./z.js", c)).toBe("z.ts");
    expect(resolveJsSpecifier("", "./w", c)).toBe("w.json");
    expect(resolveJsSpecifier("", "./w/", c)).toBe("w/index.tsx");
    expect(resolveJsSpecifier("a", "..", c)).toBeUndefined();
    expect(resolveJsSpecifier("", "y", c)).toBeUndefined();
  });

  it("ignores imports that escape the root", () => {
    tree({ "x.ts": `import a from '../outside';\nimport b from './sub/../../outside2';\nimport c from '../../etc/passwd';` });
    writeFileSync(path.join(tmp, "..", `${path.basename(tmp)}-outside.ts`), "");
    try {
      expect(related(["x.ts"], 2)).toEqual({ "x.ts": "primary" });
    } finally {
      rmSync(path.join(tmp, "..", `${path.basename(tmp)}-outside.ts`), { force: true });
    }
  });

  it("follows imports of imports up to depth hops", () => {
    tree({
      "a.ts": `import { b } from './b';`,
      "b.ts": `import { c } from './c';`,
      "c.ts": `import { d } from './d';\nimport { a } from './a';`,
      "d.ts": `export const d = 1;`,
      "b.test.ts": "",
      "c.md": "",
    });
    expect(related(["a.ts"], 0)).toEqual({ "a.ts": "primary" });
    // c.ts imports a.ts: from depth 1 it is found as an importer of the primary.
    expect(related(["a.ts"], 1)).toEqual({ "a.ts": "primary", "b.ts": "related-import", "c.ts": "related-import" });
    expect(related(["b.ts"], 1)).toEqual({ "b.ts": "primary", "c.ts": "related-import", "a.ts": "related-import", "b.test.ts": "related-test" });
    expect(related(["a.ts"], 2)).toEqual({ "a.ts": "primary", "b.ts": "related-import", "c.ts": "related-import" });
    // cycles terminate, tests/siblings are only for primaries
    expect(related(["a.ts"], 10)).toEqual({ "a.ts": "primary", "b.ts": "related-import", "c.ts": "related-import", "d.ts": "related-import" });
    expect(related(["a.ts"])).toEqual(related(["a.ts"], 1));
  });

  it("skips binaries, symlinked sources and content past the 1 MiB cap", () => {
    tree({
      "bin.js": Buffer.concat([Buffer.from("import a from './a';\n"), Buffer.from([0, 1, 2])]),
      "big.js": `${"x".repeat(MAX_SOURCE_BYTES)}\nimport b from './b';`,
      "a.ts": "",
      "b.ts": "",
      "real.ts": `import a from './a';`,
    });
    symlinkSync("real.ts", path.join(tmp, "link.ts"));
    expect(related(["bin.js"])).toEqual({ "bin.js": "primary" });
    expect(related(["big.js"])).toEqual({ "big.js": "primary" });
    expect(related(["link.ts"])).toEqual({ "link.ts": "primary" });
  });
});

describe("relative imports (Python)", () => {
  it("resolves from-imports to modules and packages", () => {
    tree({
      "app/pkg/main.py": [
        "from .util import helper",
        "from ..shared import (",
        "    thing,",
        "    other as o,",
        ")",
        "from . import sibling_mod, CONST",
        "from .sub.deep import x",
        "from .models import user \\",
        "    , account",
        "import os",
        "from os import path",
        "from ... import too_far",
      ].join("\n"),
      "app/pkg/util.py": "",
      "app/pkg/__init__.py": "",
      "app/pkg/sibling_mod.py": "",
      "app/pkg/sub/deep/__init__.py": "",
      "app/pkg/models/__init__.py": "",
      "app/pkg/models/user.py": "",
      "app/pkg/models/account.py": "",
      "app/shared.py": "",
      "os.py": "",
    });
    expect(related(["app/pkg/main.py"], 1)).toEqual({
      "app/pkg/main.py": "primary",
      "app/pkg/util.py": "related-import",
      "app/shared.py": "related-import",
      "app/pkg/sibling_mod.py": "related-import",
      "app/pkg/__init__.py": "related-import", // CONST lives in the package itself
      "app/pkg/sub/deep/__init__.py": "related-import",
      "app/pkg/models/__init__.py": "related-import",
      "app/pkg/models/user.py": "related-import",
      "app/pkg/models/account.py": "related-import",
    });
  });
});

describe("reasons and primaries", () => {
  it("the strongest reason wins", () => {
    tree({
      "x.ts": `import './x.test';\nimport './x.json';\nimport './y';`,
      "x.test.ts": "",
      "x.json": "{}",
      "y.ts": `import './x';`,
    });
    expect(related(["x.ts", "y.ts"])).toEqual({ "x.ts": "primary", "y.ts": "primary", "x.test.ts": "related-test", "x.json": "sibling" });
  });

  it("a primary directory is returned as primary and owns its subtree", () => {
    tree({ "lib/a.ts": "", "lib/b.ts": "", "x.ts": `import './lib/a';`, "x.md": "" });
    expect(related(["lib", "x.ts"])).toEqual({ lib: "primary", "x.ts": "primary", "x.md": "sibling" });
    expect(related(["."])).toEqual({ "": "primary" });
  });

  it("a missing primary is kept as primary with nothing related; bad paths are refused", () => {
    tree({ "a.ts": "" });
    expect(related(["gone.ts"])).toEqual({ "gone.ts": "primary" });
    expect(() => related(["../x.ts"])).toThrow(InvalidInputError);
  });
});

describe("from the disk (a checkpoint of some paths walks no whole tree)", () => {
  it("gives the answer a whole scan gives, with ignore rules, and walks outward from the primary only as far as it must", () => {
    tree({
      ".gitignore": "build/\n",
      "pkg/core/src/x.ts": `import { q } from "./q";\nexport const x = q;\n`,
      "pkg/core/src/q.ts": "export const q = 1;\n",
      "pkg/core/src/x.md": "# x\n",
      "pkg/core/__tests__/x.test.ts": `import { x } from "../src/x";\n`,
      "pkg/core/test/x.spec.ts": "",
      "pkg/app/src/uses-x.ts": `import { x } from "../../core/src/x";\n`,
      "pkg/app/src/other.ts": `import { q } from "../../core/src/q";\n`,
      "build/x.test.ts": `import { x } from "../pkg/core/src/x";\n`,
      "node_modules/dep/x.test.ts": `import { x } from "../../pkg/core/src/x";\n`,
      "src/main/java/a/Thing.java": "",
      "src/test/java/a/ThingTest.java": "",
    });
    for (const primaries of [["pkg/core/src/x.ts"], ["src/main/java/a/Thing.java"], ["pkg/core/src/q.ts"]]) {
      const onDisk = candidatesOnDisk(tmp, {});
      expect(Object.fromEntries(discoverRelated(tmp, onDisk, primaries))).toEqual(related(primaries));
    }
    expect(related(["pkg/core/src/x.ts"])).toEqual({
      "pkg/core/src/x.ts": "primary",
      "pkg/core/__tests__/x.test.ts": "related-test",
      "pkg/core/test/x.spec.ts": "related-test",
      "pkg/core/src/x.md": "sibling",
      "pkg/core/src/q.ts": "related-import",
      "pkg/app/src/uses-x.ts": "related-import",
    });
    // Only a Java primary: no importer search (its language has none here), so nothing beyond the test folders is listed.
    const java = candidatesOnDisk(tmp, {});
    discoverRelated(tmp, java, ["src/main/java/a/Thing.java"]);
    expect(java.walked()).toBe(0);
  });
});
