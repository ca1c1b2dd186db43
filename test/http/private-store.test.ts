/**
 * The server's data directory is private too: created 0700, its database, WAL
 * and SHM 0600 and objects 0400 while it runs; an existing, more open data
 * directory is reported at start (and left as it is).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, makeComponent } from "./api";
import { startServer } from "./server";
import { onPostgresPass } from "../support/metadata-store";
import { readStoredObject, storedObjectFile } from "../support/stored-objects";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe("the server's data directory", () => {
  it("is 0700, with the live database, WAL and SHM 0600 and objects 0400", async () => {
    const secret = "token=s3cr3t-from-the-workspace\n";
    const { name, root } = await makeComponent(admin, server.workspace, { "visible.txt": "v\n" });
    writeFileSync(path.join(root, "secret.env"), secret, { mode: 0o600 });
    await admin.call("checkpoint.create", { component: name });
    const entries = await admin.get<{ items: { path: string; sha256: string }[] }>("checkpoint.entries", { id: (await admin.get<{ items: { id: string }[] }>("checkpoint.list", { component: name })).items[0]?.id });
    const sha = entries.items.find((e) => e.path === "secret.env")?.sha256 as string;
    const object = storedObjectFile(server.dataDir, sha);
    expect(readStoredObject(server.dataDir, sha).toString("utf8")).toBe(secret);

    const db = path.join(server.dataDir, "safetynet.db");
    expect({ dataDir: modeOf(server.dataDir), object: modeOf(object) }).toEqual({ dataDir: "700", object: "400" });
    // The SQLite database and its live WAL and SHM (on the PostgreSQL pass the metadata lives in PostgreSQL).
    const sqliteFiles = onPostgresPass() ? [] : [db, `${db}-wal`, `${db}-shm`];
    for (const file of sqliteFiles) expect(modeOf(file), file).toBe("600");
    if (IS_ROOT) {
      for (const file of [object, ...sqliteFiles.slice(0, 2)]) {
        const read = spawnSync("cat", [file], { uid: NOBODY.uid, gid: NOBODY.gid, encoding: "utf8" });
        expect(read.status, file).not.toBe(0);
        expect(read.stderr).toMatch(/Permission denied/);
      }
    }
  });

  it("warns at start, naming the path, its mode and the fix, when an existing data directory is more open than 0700", async () => {
    const open = await startServer({ name: "open-datadir", dataDirMode: 0o755 });
    try {
      // The server's output reaches the log file through a pipe: give it a moment.
      let log = "";
      for (let i = 0; i < 50 && !log.includes("datadir.permissions"); i++) {
        log = readFileSync(open.logFile, "utf8");
        if (!log.includes("datadir.permissions")) await new Promise((r) => setTimeout(r, 100));
      }
      const expected = `safetynet: warning: the data directory ${open.dataDir} has mode 0755, so other local users can read checkpointed files; fix it with: chmod 700 ${open.dataDir}`;
      expect(log.split("\n")).toContain(expected);
      expect(log).toMatch(/"event":"datadir.permissions"/);
      expect(modeOf(open.dataDir)).toBe("755");
    } finally {
      await open.stop();
    }
  });
});
