import path from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "@playwright/test";
import { callApi, collectPageErrors, signIn, uniqueName, WORKSPACE, writeTree, type CreatedCheckpoint } from "./support";

/** An agent's memory store: `rows` memories in a SQLite file in WAL mode. */
function memoryStore(file: string, rows: number): void {
  const db = new Database(file);
  db.pragma("journal_mode = wal");
  db.exec("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO memories (text) VALUES (?)");
  for (let i = 0; i < rows; i++) insert.run(`memory ${i}`);
  db.close();
}

function countMemories(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM memories").get() as { n: number }).n);
  } finally {
    db.close();
  }
}

test.describe("database snapshots in the dashboard", () => {
  test("the checkpoint page lists the database snapshot, the confirm dialog the database it replaces, and confirming puts it back", async ({ page }) => {
    const pageErrors = collectPageErrors(page);
    const name = uniqueName("memory");
    const root = path.join(WORKSPACE, name);
    writeTree(root, { "notes.md": "what the agent knows\n" });
    const file = path.join(root, "memory.db");
    memoryStore(file, 120);
    await callApi("component.upsert", { name, root, dbTargets: ["sqlite:memory.db"] });
    const checkpoint = await callApi<CreatedCheckpoint>("checkpoint.create", { component: name, includeDb: true, reason: "before the agent forgets" });
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 20");
    db.close();

    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    const snapshots = page.getByTestId("checkpoint-databases");
    await expect(snapshots.getByRole("heading", { name: "Databases (1)" })).toBeVisible();
    const snapshot = snapshots.getByTestId("checkpoint-database");
    await expect(snapshot).toContainText("sqlite:memory.db");
    await expect(snapshot.getByRole("row", { name: /memories/ })).toContainText("120");
    await page.screenshot({ path: "test-results/checkpoint-databases.png", fullPage: true });

    await page.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("alertdialog");
    const planned = dialog.getByTestId("plan-databases");
    await expect(planned.getByRole("heading", { name: "Databases replaced whole (1)" })).toBeVisible();
    await expect(planned.getByRole("listitem").filter({ hasText: "sqlite:memory.db" })).toContainText("1 tables, 120 rows");
    // Nothing has changed yet.
    expect(countMemories(file)).toBe(20);
    await page.screenshot({ path: "test-results/rollback-dialog-databases.png" });

    await dialog.getByRole("button", { name: /^Confirm/ }).click();
    await expect(dialog.getByTestId("rollback-result")).toContainText("Rolled back in");
    expect(countMemories(file)).toBe(120);
    expect(pageErrors).toEqual([]);
  });
});
