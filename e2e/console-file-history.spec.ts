/**
 * A file's history in the console: reached from a path in a checkpoint's diff,
 * every checkpoint that changed the file listed a page at a time, an old
 * version's content, a diff of two versions, and Restore this version, which
 * restores exactly that file (nothing else on disk changes) through the usual
 * plan and confirm, with a safety checkpoint of that path whose undo works.
 */
import path from "node:path";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { callApi, collectPageErrors, hashTree, keepScreenshot, signIn, uniqueName, WORKSPACE, writeTree } from "./support";

const FILE = "src/app config ü.ts";
const VERSIONS = 50;

/** Version n of the file: a few lines, one of which says which version it is. */
function version(n: number): string {
  return `// settings\nexport const version = ${n};\nexport const name = "app";\nexport const retries = ${n % 7};\n`;
}

async function component(prefix: string, files: Record<string, string>): Promise<{ name: string; root: string }> {
  const name = uniqueName(prefix);
  const root = path.join(WORKSPACE, name);
  writeTree(root, files);
  await callApi("component.upsert", { name, root });
  return { name, root };
}

const row = (page: import("@playwright/test").Page, checkpointId: string) => page.locator(`[data-testid="file-version"][data-checkpoint="${checkpointId}"]`);

test("lists a file's 50 versions, shows an old one, diffs two, and Restore this version restores exactly that file, with a safety checkpoint and undo", async ({ page }) => {
  test.setTimeout(180_000);
  const pageErrors = collectPageErrors(page);
  const { name, root } = await component("web-filehist", { [FILE]: version(1), "src/other.ts": "export const other = 0;\n", "README.md": "# app\n" });
  const ids: string[] = [];
  for (let n = 1; n <= VERSIONS; n++) {
    writeFileSync(path.join(root, FILE), version(n));
    // Another file changes now and then: it must not show up in this file's history.
    if (n % 10 === 0) writeFileSync(path.join(root, "src/other.ts"), `export const other = ${n};\n`);
    ids.push((await callApi<{ id: string }>("checkpoint.create", { component: name, agent: n % 2 ? "claude-code" : "cursor", task: `task-${Math.ceil(n / 10)}`, reason: `step ${n}` })).id);
  }
  // The agent goes on after the last checkpoint: the file and another one change on disk.
  writeFileSync(path.join(root, FILE), version(51));
  writeFileSync(path.join(root, "src/other.ts"), "export const other = 'live';\n");
  writeTree(root, { "src/new.ts": "export const fresh = true;\n" });

  // From the diff of the last checkpoint: the changed file's History link.
  await signIn(page);
  await page.goto(`/checkpoints/${ids[VERSIONS - 1]}`);
  const modified = page.getByTestId("diff-file").filter({ hasText: FILE });
  await expect(modified).toBeVisible();
  await modified.getByRole("link", { name: `History of ${FILE}` }).click();
  await expect(page).toHaveURL(new RegExp(`/components/${name}/files\\?path=`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`History of ${FILE}`);

  // Paged: 20 at a time, newest first, back to the first checkpoint holding it.
  const versions = page.getByTestId("file-version");
  await expect(versions).toHaveCount(20);
  await expect(versions.first()).toHaveAttribute("data-checkpoint", ids[VERSIONS - 1] as string);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(versions).toHaveCount(40);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(versions).toHaveCount(VERSIONS);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  await expect(versions.last()).toHaveAttribute("data-checkpoint", ids[0] as string);
  await expect(versions.last()).toHaveAttribute("data-change", "present");
  await expect(row(page, ids[1] as string)).toHaveAttribute("data-change", "modified");
  await expect(row(page, ids[1] as string)).toContainText("cursor");
  await expect(row(page, ids[1] as string)).toContainText("task-1");
  await expect(row(page, ids[1] as string)).toContainText("step 2");

  // An old version's content, with line numbers.
  await row(page, ids[2] as string).getByRole("button", { name: "View" }).click();
  const content = page.getByTestId("file-version-content");
  await expect(content).toHaveAttribute("data-checkpoint", ids[2] as string);
  await expect(content.getByTestId("file-content-text")).toContainText("export const version = 3;");
  await expect(content.getByTestId("file-content-text").locator("tr").nth(1)).toHaveText("2export const version = 3;");

  // Two versions compared, older to newer whichever is ticked first.
  await row(page, ids[9] as string).getByTestId("compare-version").check();
  await row(page, ids[2] as string).getByTestId("compare-version").check();
  const diff = page.getByTestId("file-versions-diff");
  await expect(diff).toContainText(`${ids[2]} (older)`);
  // Only the version line differs (3 % 7 and 10 % 7 are both 3).
  await expect(diff.locator('[data-line="removed"]')).toHaveCount(1);
  await expect(diff.locator('[data-line="removed"]')).toContainText("export const version = 3;");
  await expect(diff.locator('[data-line="added"]')).toHaveCount(1);
  await expect(diff.locator('[data-line="added"]')).toContainText("export const version = 10;");
  await page.setViewportSize({ width: 1280, height: 900 });
  // The list scrolls within its column: the page itself from the top, with the row picked in view.
  await page.evaluate(() => window.scrollTo(0, 0));
  await keepScreenshot(page, "file-history", { fullPage: false });

  // Restore version 5: only this file changes on disk.
  const before = hashTree(root);
  await row(page, ids[4] as string).getByRole("button", { name: "Restore this version…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByRole("heading", { name: new RegExp(`^Restore ${FILE} of ${name} as of`) })).toBeVisible();
  await expect(dialog.getByTestId("restore-only-note")).toContainText("Only this path is changed");
  await expect(dialog.getByTestId("plan-scope-sentence")).toContainText(`Only the path ${FILE}`);
  await expect(dialog.getByTestId("plan-restore-count")).toHaveText("1");
  await expect(dialog.getByTestId("plan-delete-count")).toHaveText("0");
  await dialog.getByRole("button", { name: /^Confirm: roll back 1 change$/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("1 restored · 0 deleted");
  expect(readFileSync(path.join(root, FILE), "utf8")).toBe(version(5));
  const after = hashTree(root);
  for (const p of Object.keys(before).filter((p) => p !== FILE)) expect(after[p], p).toBe(before[p]);
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());

  // The safety checkpoint holds this path as it was (version 51), and nothing else.
  const safetyLink = dialog.getByTestId("rollback-result").getByRole("link", { name: /^cp_/ });
  const safetyId = (await safetyLink.textContent())?.trim() as string;
  const safety = await callApi<{ kind: string; paths: string[] | null }>("checkpoint.get", { id: safetyId }, { method: "query" });
  expect(safety).toMatchObject({ kind: "safety", paths: [FILE] });

  // Undo: the file is back at what the agent had, still nothing else touched.
  await dialog.getByRole("button", { name: "Undo this rollback" }).click();
  await expect(dialog.getByTestId("rollback-plan")).toHaveAttribute("data-plan-kind", "undo");
  await expect(dialog.getByTestId("plan-restore-count")).toHaveText("1");
  await dialog.getByRole("button", { name: /^Confirm: undo 1 change$/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("Rollback undone");
  expect(hashTree(root)).toEqual(before);
  await dialog.getByRole("button", { name: "Close" }).click();
  expect(pageErrors).toEqual([]);
});

test("restoring a version in which the file was deleted deletes it, and the dialog says so", async ({ page }) => {
  const { name, root } = await component("web-filehist-del", { "lib/old.ts": "export const old = 1;\n", "keep.txt": "keep\n" });
  await callApi("checkpoint.create", { component: name });
  rmSync(path.join(root, "lib/old.ts"));
  const deletedIn = (await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "removed old.ts" })).id;
  // The agent brings it back afterwards.
  writeTree(root, { "lib/old.ts": "export const old = 2;\n" });

  await signIn(page);
  await page.goto(`/components/${encodeURIComponent(name)}/files?path=${encodeURIComponent("lib/old.ts")}`);
  const deleted = row(page, deletedIn);
  await expect(deleted).toHaveAttribute("data-change", "deleted");
  await deleted.getByRole("button", { name: "View" }).click();
  await expect(page.getByTestId("file-version-deleted")).toBeVisible();
  await deleted.getByRole("button", { name: "Restore this version (delete)…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("restore-deletes")).toContainText("restoring this version deletes the file");
  await expect(dialog.getByTestId("plan-delete-count")).toHaveText("1");
  await dialog.getByRole("button", { name: /^Confirm: roll back 1 change$/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("0 restored · 1 deleted");
  expect(existsSync(path.join(root, "lib/old.ts"))).toBe(false);
  expect(readFileSync(path.join(root, "keep.txt"), "utf8")).toBe("keep\n");
});

test("a file whose name is not UTF-8 has its history page too, reached from the diff", async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  const { name, root } = await component("web-filehist-bytes", { "keep.txt": "keep\n" });
  // "caf\xe9.txt": Latin-1 bytes, no UTF-8 name (shown as \xe9).
  const file = Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]);
  writeFileSync(file, "first\n");
  await callApi("checkpoint.create", { component: name });
  writeFileSync(file, "second\n");
  const latest = (await callApi<{ id: string }>("checkpoint.create", { component: name })).id;
  writeFileSync(file, "third\n");

  await signIn(page);
  await page.goto(`/checkpoints/${latest}`);
  const modified = page.getByTestId("diff-file").filter({ hasText: "caf\\xe9.txt" });
  await modified.getByRole("link", { name: "History of caf\\xe9.txt" }).click();
  await expect(page).toHaveURL(/\/files\?pathJson=/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("History of caf\\xe9.txt");
  const versions = page.getByTestId("file-version");
  await expect(versions).toHaveCount(2);
  await versions.first().getByRole("button", { name: "View" }).click();
  await expect(page.getByTestId("file-content-text")).toContainText("second");
  expect(pageErrors).toEqual([]);
});
