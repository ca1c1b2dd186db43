/**
 * Accessibility: axe finds no serious or critical violation on the console's main
 * pages, in the light and the dark colour scheme (contrast included).
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { breakWorkspace, callApi, componentWithCheckpoint, signIn } from "./support";

const SCHEMES = ["light", "dark"] as const;

/** The serious and critical violations on the page, one line per rule with its nodes' selectors and the first node's summary. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes): ${v.nodes.slice(0, 6).map((n) => n.target.join(" ")).join(" | ")} — ${v.nodes[0]?.failureSummary ?? ""}`);
}

test.describe("accessibility", () => {
  let pages: { name: string; path: string; ready: (page: Page) => Promise<void> }[] = [];

  test.beforeAll(async () => {
    const { name, root, checkpoint } = await componentWithCheckpoint("axe");
    breakWorkspace(root);
    const second = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "after the agent's edit", agent: "refactor-bot", task: "TASK-42" });
    await callApi("checkpoint.verify", { id: checkpoint.id });
    const heading = (text: string | RegExp) => async (page: Page) => {
      await expect(page.getByRole("heading", { level: 1, name: text })).toBeVisible();
    };
    pages = [
      { name: "overview", path: "/", ready: heading("Components") },
      { name: "component timeline", path: `/components/${name}`, ready: heading(name) },
      { name: "checkpoint page", path: `/checkpoints/${checkpoint.id}`, ready: async (page) => expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible() },
      {
        name: "compare page",
        path: `/checkpoints/${second.id}/compare?against=previous`,
        ready: async (page) => {
          await heading(`Compare checkpoint ${second.id}`)(page);
          await expect(page.getByRole("heading", { level: 2, name: "What this checkpoint changed" })).toBeVisible();
          await expect(page.getByTestId("diff-file").first()).toBeVisible();
        },
      },
      {
        name: "file history",
        path: `/components/${name}/files?path=${encodeURIComponent("src/greeting.ts")}`,
        ready: async (page) => {
          await heading("History of src/greeting.ts")(page);
          await expect(page.getByTestId("file-version")).toHaveCount(2);
        },
      },
      {
        name: "rollback dialog with its plan",
        path: `/checkpoints/${checkpoint.id}`,
        ready: async (page) => {
          await page.getByRole("button", { name: "Roll back…" }).click();
          await expect(page.getByRole("alertdialog").getByTestId("rollback-plan")).toBeVisible();
        },
      },
      { name: "sessions", path: `/components/${name}/sessions`, ready: async (page) => expect(page.getByText("TASK-42").first()).toBeVisible() },
      { name: "history", path: "/history", ready: heading("History") },
      { name: "retention", path: "/retention", ready: heading("Retention") },
      { name: "instances", path: "/instances", ready: async (page) => expect(page.getByTestId("instance-row").first()).toBeVisible() },
      { name: "tokens", path: "/tokens", ready: heading(/tokens/i) },
    ];
  });

  for (const scheme of SCHEMES) {
    test(`the main pages have no serious or critical violations in ${scheme} mode`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      const found: string[] = [];
      await page.goto("/login");
      found.push(...(await seriousViolations(page)).map((v) => `sign-in: ${v}`));
      await signIn(page);
      for (const target of pages) {
        await page.goto(target.path);
        await target.ready(page);
        await page.waitForLoadState("networkidle");
        found.push(...(await seriousViolations(page)).map((v) => `${target.name}: ${v}`));
      }
      expect(found).toEqual([]);
    });
  }
});
