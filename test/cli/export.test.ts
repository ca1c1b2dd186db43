import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { writeEdgeCaseTree } from "../support/fixtures";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, corruptObject, jsonOf, makeWorkspaceDirs, readTree, runCli, sha256Of, treeDifferences, writeTree, type CliErrorJson } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { ExportReport } from "../../server/cli/export-archive";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

async function checkpointedEdgeCases() {
  const ws = makeWorkspaceDirs("cli-export");
  writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "before export"]);
  const restored = path.join(ws.base, "restored");
  await cliJson(ws, ["checkpoint", "restore", created.id, "--to", restored]);
  return { ws, created, restored };
}

function extract(file: string, into: string): void {
  fs.mkdirSync(into);
  if (file.endsWith(".zip")) execFileSync("unzip", ["-q", file, "-d", into]);
  else execFileSync("tar", ["-xzf", file, "-C", into]);
}

describe("safetynet checkpoint export", () => {
  it("writes a .tar.gz and a .zip whose files are byte for byte those of `checkpoint restore` (tar: modes, mtimes, links)", async () => {
    const { ws, created, restored } = await checkpointedEdgeCases();
    const expected = readTree(restored);

    for (const format of ["tar.gz", "zip"] as const) {
      const file = path.join(ws.base, `web.${format}`);
      const report = await cliJson<ExportReport>(ws, ["checkpoint", "export", created.id, "--format", format, "-o", file]);
      expect(report).toMatchObject({ checkpointId: created.id, component: "web", format, file, archiveBytes: fs.statSync(file).size, archiveSha256: sha256Of(fs.readFileSync(file)) });
      const into = path.join(ws.base, `x-${format}`);
      extract(file, into);
      const actual = readTree(path.join(into, `web-${created.id}`));
      expect(treeDifferences(expected, actual, { mtime: false }), format).toEqual([]);
      if (format === "tar.gz") {
        for (const [rel, node] of expected) {
          if (node.kind !== "symlink") expect(Math.floor((actual.get(rel)?.mtimeMs ?? 0) / 1000), rel).toBe(Math.floor(node.mtimeMs / 1000));
        }
      }
    }
  });

  it("carries the checkpoint's database snapshots too, each as stored and described in databases.json", async () => {
    const ws = makeWorkspaceDirs("cli-export-db");
    writeTree(ws.root, { "app.txt": "app\n" });
    const memory = new Database(path.join(ws.root, "memory.db"));
    memory.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('remember this'), ('and this')");
    memory.close();
    await cliJson(ws, ["component", "add", "web", "--root", ws.root, "--db", "sqlite:memory.db"]);
    const created = await cliJson<CheckpointCreated & { databases: { target: string; sha256: string }[] }>(ws, ["checkpoint", "create", "web", "--db"]);
    const file = path.join(ws.base, "web.tar.gz");

    await cliJson<ExportReport>(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", file]);

    const into = path.join(ws.base, "x");
    extract(file, into);
    const folder = path.join(into, `web-${created.id}`, ".safetynet-databases");
    const described = JSON.parse(fs.readFileSync(path.join(folder, "databases.json"), "utf8")) as { target: string; format: string; file: string; sha256: string }[];
    expect(described).toEqual([expect.objectContaining({ target: "sqlite:memory.db", format: "sqlite", file: ".safetynet-databases/sqlite-memory.db.sqlite" })]);
    const copy = path.join(into, `web-${created.id}`, described[0]?.file as string);
    expect(sha256Of(fs.readFileSync(copy))).toBe(described[0]?.sha256);
    const opened = new Database(copy, { readonly: true });
    expect(opened.prepare("SELECT text FROM notes ORDER BY id").all()).toEqual([{ text: "remember this" }, { text: "and this" }]);
    opened.close();
    expect(fs.readFileSync(path.join(into, `web-${created.id}`, "app.txt"), "utf8")).toBe("app\n");
  });

  it("exits 4 naming the file when a stored object is corrupt, and leaves no file behind (an existing one is untouched)", async () => {
    const ws = makeWorkspaceDirs("cli-export-bad");
    writeTree(ws.root, { "a.txt": "fine\n", "big.bin": Buffer.alloc(2_000_000, 3), "z.txt": "last\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    await corruptObject(ws.dataDir, sha256Of(Buffer.alloc(2_000_000, 3)));
    const file = path.join(ws.base, "web.tar.gz");
    fs.writeFileSync(file, "an older export\n");

    const result = await runCli(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", file, "--json"]);

    expect(result.status).toBe(4);
    const { error } = jsonOf<CliErrorJson>(result);
    expect(error.code).toBe("INTEGRITY");
    expect(error.message).toMatch(/big\.bin is corrupt/);
    expect(fs.readFileSync(file, "utf8")).toBe("an older export\n");
    expect(fs.readdirSync(ws.base).filter((n) => n.includes(".tmp"))).toEqual([]);
    // The damage is now known: verify state and the files, as `checkpoint show` reports them.
    expect(await cliJson(ws, ["checkpoint", "show", created.id])).toMatchObject({ verifyState: "corrupt", damagedFiles: [{ path: "big.bin", state: "corrupt" }] });
  });

  it("refuses a checkpoint known to be damaged before writing anything, and --intact writes its intact files only, listing the damaged one as left out", async () => {
    const ws = makeWorkspaceDirs("cli-export-intact");
    writeTree(ws.root, { "a.txt": "fine\n", "big.bin": Buffer.alloc(2_000_000, 4), "z.txt": "last\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    await corruptObject(ws.dataDir, sha256Of(Buffer.alloc(2_000_000, 4)));
    expect((await runCli(ws, ["checkpoint", "verify", created.id, "--json"])).status).toBe(4);
    const file = path.join(ws.base, "web.tar.gz");

    const refused = await runCli(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", file, "--json"]);
    expect(refused.status).toBe(4);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/refused before the first byte: 1 stored object\(s\) are damaged: big\.bin \(corrupt\).*--intact/);
    expect(fs.existsSync(file)).toBe(false);

    const partial = await runCli(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", file, "--intact", "--json"]);
    expect(partial.status, partial.stderr).toBe(0);
    const report = jsonOf<ExportReport>(partial);
    expect(report.warnings).toEqual([expect.objectContaining({ path: "big.bin", archivedAs: null, reason: expect.stringMatching(/corrupt: left out/) })]);
    const into = path.join(ws.base, "x");
    extract(file, into);
    const folder = path.join(into, `web-${created.id}`);
    expect(fs.readFileSync(path.join(folder, "a.txt"), "utf8")).toBe("fine\n");
    expect(fs.readFileSync(path.join(folder, "z.txt"), "utf8")).toBe("last\n");
    expect(fs.existsSync(path.join(folder, "big.bin"))).toBe(false);
  });

  it("refuses an unknown format (exit 2, naming the field) and an unknown checkpoint (exit 5)", async () => {
    const ws = makeWorkspaceDirs("cli-export-usage");
    const badFormat = await runCli(ws, ["checkpoint", "export", "cp_x", "--format", "rar", "-o", path.join(ws.base, "x.rar"), "--json"]);
    expect(badFormat.status).toBe(2);
    expect(jsonOf<CliErrorJson>(badFormat).error.message).toMatch(/^invalid format: format is tar.gz or zip/);
    const unknown = await runCli(ws, ["checkpoint", "export", "cp_unknown", "--format", "zip", "-o", path.join(ws.base, "x.zip"), "--json"]);
    expect(unknown.status).toBe(5);
    expect(fs.existsSync(path.join(ws.base, "x.zip"))).toBe(false);
  });
});
