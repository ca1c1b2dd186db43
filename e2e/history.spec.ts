import path from "node:path";
import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { callApi, componentWithCheckpoint, signIn } from "./support";

interface Plan {
  confirmToken: string;
}

test("the history lists rollbacks with their outcome, filters by component, kind and outcome, and shows why a rollback failed", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("web-history");

  // One rollback that succeeds and one refused because the workspace changed after planning (both over the API).
  writeFileSync(path.join(root, "config.json"), "{}\n");
  const plan = await callApi<Plan>("rollback.plan", { checkpointId: checkpoint.id });
  await callApi("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
  writeFileSync(path.join(root, "config.json"), '{ "changed": 1 }\n');
  const stale = await callApi<Plan>("rollback.plan", { checkpointId: checkpoint.id });
  writeFileSync(path.join(root, "config.json"), '{ "changed": 2 }\n');
  await expect(callApi("rollback.execute", { checkpointId: checkpoint.id, confirmToken: stale.confirmToken })).rejects.toThrow(/400/);

  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "History" }).click();
  await expect(page.getByRole("heading", { name: "History", level: 1 })).toBeVisible();

  // Filter through the form: this component's rollbacks only.
  await page.getByLabel("Component").selectOption(name);
  await page.getByLabel("Kind").selectOption("rollback");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`component=${name}.*kind=rollback`));
  const table = page.getByTestId("history-table");
  await expect(table.locator('tr[data-kind="rollback"]')).toHaveCount(2);
  await expect(table.locator('tr[data-outcome="succeeded"]')).toHaveCount(1);
  await expect(table.locator('tr[data-outcome="succeeded"]')).toContainText("token:admin");
  await expect(table).toContainText("the workspace changed since the plan was made; plan again");
  await page.screenshot({ path: "test-results/screenshots/history-rollbacks.png", fullPage: true });

  // Only failures.
  await page.getByLabel("Outcome").selectOption("failed");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(table.locator("tr[data-kind]")).toHaveCount(1);
  await expect(table.locator('tr[data-outcome="failed"]')).toBeVisible();

  // The component timeline now also holds the safety checkpoint of the successful rollback.
  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("timeline-item")).toHaveCount(2);
  await expect(page.getByTestId("timeline-item").first()).toContainText("safety");
});
