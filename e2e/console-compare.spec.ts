/**
 * What changed, on every card and beyond: the diffstat against the previous
 * checkpoint, the first changed paths on expand, the compare view (previous, live,
 * any checkpoint picked; addressable by URL), a rollback plan's per-file diffs and
 * mode changes, and a damaged checkpoint (its diff marks the damaged row and
 * compares the rest; its downloads are refused with the reason, and its intact
 * files are offered as a partial archive; no "Try again" that cannot help).
 */
import path from "node:path";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { breakWorkspace, callApi, collectPageErrors, componentWithCheckpoint, corruptStoredObject, corruptStoredObjectNamed, keepScreenshot, signIn, writeTree } from "./support";

test("cards say what changed, list the first paths on expand, and Compare opens previous, live or a picked checkpoint", async ({ page }) => {
  const errors = collectPageErrors(page);
  const { name, root, checkpoint: first } = await componentWithCheckpoint("cmp-cards");
  breakWorkspace(root);
  const second = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "after the agent's refactor" });
  const generated = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`src/gen/f${String(i + 1).padStart(2, "0")}.ts`, `export const f${i + 1} = ${i + 1};\n`]));
  writeTree(root, generated);
  const third = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "generated twelve modules" });

  await signIn(page);
  await page.goto(`/components/${name}`);
  const card = (id: string) => page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${id}"]`);

  await expect(card(first.id).getByTestId("card-diffstat")).toContainText("first checkpoint");
  await expect(card(first.id).getByTestId("card-diffstat")).toContainText("all 5 files new");
  const stat = card(second.id).getByTestId("card-diffstat");
  await expect(stat).toHaveAccessibleName(/^2 added, 2 modified, 1 deleted\s*since the previous checkpoint\s*; show the changed paths$/);
  await expect(stat).toContainText("+2");
  await expect(stat).toContainText("~2");
  await expect(stat).toContainText("−1");
  await expect(card(third.id).getByTestId("card-diffstat")).toHaveAccessibleName(/^12 added, 0 modified, 0 deleted\s/);

  // Expanding fetches the paths, with their kind of change.
  await expect(card(second.id).getByTestId("card-changed-paths")).toHaveCount(0);
  await stat.click();
  const paths = card(second.id).getByTestId("card-changed-paths").locator("li");
  await expect(paths).toHaveCount(5);
  await expect(paths.nth(0)).toContainText("README.md");
  await expect(paths.nth(0)).toHaveAttribute("data-change", "deleted");
  await expect(paths.nth(1)).toContainText("config.json");
  await expect(paths.nth(1)).toHaveAttribute("data-change", "modified");
  await expect(card(second.id).getByTestId("card-changed-paths")).toContainText("notes/agent-scratch.md");
  await expect(card(second.id).getByTestId("card-changed-paths")).toContainText("src/farewell.ts");
  await expect(card(second.id).getByTestId("card-changes-more")).toHaveCount(0);

  // Twelve changes: ten listed, the rest in the compare view.
  await card(third.id).getByTestId("card-diffstat").click();
  await expect(card(third.id).getByTestId("card-changed-paths").locator("li")).toHaveCount(10);
  await expect(card(third.id).getByTestId("card-changes-more")).toHaveText("2 more in the compare view");
  await keepScreenshot(page, "console-card-changes", { fullPage: false });
  await card(third.id).getByTestId("card-changes-more").click();
  await expect(page).toHaveURL(new RegExp(`/checkpoints/${third.id}/compare\\?against=previous$`));
  await expect(page.getByRole("heading", { name: "What this checkpoint changed" })).toBeVisible();
  await expect(page.locator('[data-testid="diff-row"][data-path^="src/gen/f"]')).toHaveCount(12);

  // Compare on a card: the previous checkpoint by default, with the patch.
  await page.goto(`/components/${name}`);
  await card(second.id).getByTestId("card-compare").click();
  await expect(page).toHaveURL(new RegExp(`/checkpoints/${second.id}/compare\\?against=previous$`));
  await expect(page.getByTestId("compare-previous")).toHaveAttribute("aria-current", "page");
  const greeting = page.locator('[data-testid="diff-file"][data-path="src/greeting.ts"]');
  await expect(greeting).toContainText("simplified by the agent");
  await expect(page.locator('[data-testid="diff-row"][data-path="README.md"]')).toBeVisible();

  // The live workspace: the generated modules are there, not in the second checkpoint.
  await page.getByTestId("compare-live").click();
  await expect(page).toHaveURL(new RegExp(`/checkpoints/${second.id}/compare\\?against=live$`));
  await expect(page.getByRole("heading", { name: "This checkpoint against the live workspace" })).toBeVisible();
  await expect(page.locator('[data-testid="diff-row"][data-path="src/gen/f01.ts"]')).toBeVisible();

  // Any checkpoint, picked from the list with a filter; the URL holds it across a reload.
  await page.getByTestId("compare-other").click();
  await page.getByLabel("Filter by id, reason, actor, agent or task").fill("twelve");
  await expect(page.getByTestId("compare-pick")).toHaveCount(1);
  await page.getByTestId("compare-pick").click();
  await expect(page).toHaveURL(new RegExp(`/checkpoints/${second.id}/compare\\?against=${third.id}$`));
  await page.reload();
  await expect(page.getByRole("heading", { name: "From this checkpoint to the picked one" })).toBeVisible();
  await expect(page.locator('[data-testid="diff-row"][data-path^="src/gen/f"]')).toHaveCount(12);
  await expect(page.getByTestId("compare-other")).toContainText(third.id);
  await keepScreenshot(page, "console-compare", { fullPage: false });

  // On a phone: the chooser and the diff wrap, nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const noSidewaysScroll = async () => {
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    expect(widths.page, "the page is wider than the screen").toBeLessThanOrEqual(widths.viewport);
  };
  await page.goto(`/checkpoints/${second.id}/compare?against=previous`);
  await expect(greeting).toContainText("simplified by the agent");
  await noSidewaysScroll();
  await page.goto(`/components/${name}`);
  await card(second.id).getByTestId("card-diffstat").click();
  await expect(card(second.id).getByTestId("card-changed-paths").locator("li")).toHaveCount(5);
  await noSidewaysScroll();
  await page.setViewportSize({ width: 1280, height: 720 });

  // The checkpoint page offers Compare too; the first checkpoint has nothing before it.
  await page.goto(`/checkpoints/${first.id}`);
  await page.getByTestId("checkpoint-compare").click();
  await expect(page.getByTestId("compare-no-previous")).toContainText("first checkpoint");
  expect(errors).toEqual([]);
});

test("the rollback dialog opens one file's diff before confirming, with its mode change shown though its content changed too", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("cmp-mode");
  const script = path.join(root, "run.sh");
  writeFileSync(script, "#!/bin/sh\necho one\n");
  chmodSync(script, 0o644);
  const before = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "run.sh not executable" });
  writeFileSync(script, "#!/bin/sh\necho two\n");
  chmodSync(script, 0o755);
  expect(checkpoint.id).not.toBe(before.id);

  await signIn(page);
  await page.goto(`/components/${name}`);
  await page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${before.id}"]`).getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByTestId("rollback-dialog");
  const row = dialog.locator('[data-testid="plan-row"][data-path="run.sh"]');
  await expect(row).toContainText("overwrite");
  await expect(row.getByTestId("plan-mode-change")).toHaveText("mode 0755 → 0644");
  await expect(dialog.getByTestId("plan-file-diff")).toHaveCount(0);

  await row.getByTestId("plan-file-diff-toggle").click();
  await expect(row.getByTestId("plan-file-diff-toggle")).toHaveAttribute("aria-expanded", "true");
  const diff = row.getByTestId("plan-file-diff");
  await expect(diff.getByTestId("mode-change")).toHaveText("0644 → 0755");
  await expect(diff).toContainText("checkpoint: −echo one");
  await expect(diff).toContainText("live: +echo two");
  await keepScreenshot(page, "console-rollback-file-diff", { fullPage: false });

  // Still a plan: confirming restores content and mode.
  await dialog.getByRole("button", { name: /^Confirm: roll back/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toBeVisible();
  expect(readFileSync(script, "utf8")).toBe("#!/bin/sh\necho one\n");
});

test("a damaged checkpoint: its diff marks the damaged row and compares the rest, downloads say why they are refused and offer the intact files, and nothing offers Try again", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("cmp-damaged");
  const original = readFileSync(path.join(root, "src/greeting.ts"));
  breakWorkspace(root);
  const restore = corruptStoredObject(original);
  try {
    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    const damagedRow = page.locator('[data-testid="diff-file"][data-path="src/greeting.ts"]');
    await expect(damagedRow).toHaveAttribute("data-damaged", "corrupt");
    await expect(damagedRow).toContainText("damaged: corrupt");
    await expect(damagedRow).toContainText("no text diff can be shown");
    // The intact files are compared as usual.
    await expect(page.locator('[data-testid="diff-file"][data-path="config.json"]')).toContainText('"verbose": true');
    await expect(page.locator('[data-testid="diff-row"][data-path="README.md"]')).toBeVisible();
    await expect(page.getByTestId("diff-damaged")).toContainText("src/greeting.ts");

    // The diff recorded the damage: the page says so, and downloads are refused with the reason.
    await page.reload();
    await expect(page.getByTestId("damage-panel")).toContainText("src/greeting.ts");
    const refused = page.getByTestId("download-refused");
    await expect(refused).toContainText("Full download refused: 1 stored file is damaged: src/greeting.ts (corrupt)");
    await expect(page.getByTestId("download-tar")).toHaveCount(0);
    await expect(refused.getByTestId("download-intact-tar")).toHaveAttribute("href", `/api/checkpoints/${checkpoint.id}/archive?format=tar.gz&intact=1`);
    await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
    await keepScreenshot(page, "console-damaged-checkpoint");

    const full = await page.request.get(`/api/checkpoints/${checkpoint.id}/archive?format=zip`);
    expect(full.status()).toBe(422);
    expect(((await full.json()) as { error: { message: string } }).error.message).toMatch(/src\/greeting\.ts \(corrupt\).*intact files only/);
    const partial = await page.request.get(`/api/checkpoints/${checkpoint.id}/archive?format=zip&intact=1`);
    expect(partial.status()).toBe(200);
    expect(partial.headers()["content-disposition"]).toBe(`attachment; filename="${name}-${checkpoint.id}-partial.zip"`);

    // The card says it too, and its compare view marks the row.
    await page.goto(`/components/${name}`);
    await expect(page.getByTestId("damage-note")).toContainText("src/greeting.ts");
    await page.goto(`/checkpoints/${checkpoint.id}/compare?against=live`);
    await expect(page.locator('[data-testid="diff-file"][data-path="src/greeting.ts"]')).toHaveAttribute("data-damaged", "corrupt");
    await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
  } finally {
    restore();
  }
});

test("a comparison that a damaged manifest makes impossible says so, without Try again or Compare again", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("cmp-manifest");
  breakWorkspace(root);
  const second = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "after" });
  writeTree(root, { "later.txt": "written after the second checkpoint\n" });
  const restore = corruptStoredObjectNamed(checkpoint.manifestSha256);
  try {
    await signIn(page);
    await page.goto(`/checkpoints/${second.id}/compare?against=previous`);
    const problem = page.getByRole("alert").filter({ hasText: "Stored data is damaged" });
    await expect(problem).toContainText("422");
    await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Compare again" })).toHaveCount(0);
    // The live workspace against the intact checkpoint still compares.
    await page.getByTestId("compare-live").click();
    await expect(page.locator('[data-testid="diff-row"][data-path="later.txt"]')).toBeVisible();
    await expect(page.getByRole("button", { name: "Compare again" })).toBeVisible();
  } finally {
    restore();
  }
});
