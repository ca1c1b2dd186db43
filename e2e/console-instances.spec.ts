/**
 * Which instance serves each component, and the instances' health: the overview
 * and the component page name the live instance that reaches a component's files
 * (here, this one), or the one last seen when none is live; the Instances page
 * lists each instance with its state, heartbeat age, version and roots. A second,
 * silent instance on another host is written into the metadata as one that
 * stopped sending heartbeats a minute ago would have left it.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "@playwright/test";
import { collectPageErrors, componentWithCheckpoint, DATA_DIR, keepScreenshot, signIn, uniqueName, WORKSPACE } from "./support";

const OTHER_HOST = "agent-host-2";
const OTHER_ID = "in_0000000000otherhost";
const OTHER_ROOT = "/srv/agent-host-2/work";
let local: string;
let remote: string;

test.beforeAll(async () => {
  local = (await componentWithCheckpoint("served-here")).name;
  remote = uniqueName("served-there");
  const db = new Database(path.join(DATA_DIR, "safetynet.db"));
  try {
    const minuteAgo = new Date(Date.now() - 60_000).toISOString().replace("Z", "+00:00");
    db.prepare(`INSERT OR REPLACE INTO "Instance" (id, host, roots, version, pid, startedAt, heartbeatAt, stoppedAt) VALUES (?, ?, ?, '0.1.0', 4242, ?, ?, NULL)`).run(
      OTHER_ID,
      OTHER_HOST,
      JSON.stringify([OTHER_ROOT]),
      minuteAgo,
      minuteAgo,
    );
    // Registered by that host when it was up: its root is on that host, outside this one's roots.
    db.prepare(`INSERT INTO "Component" (id, name, root, include, exclude, metadata, createdAt, updatedAt) VALUES (?, ?, ?, '[]', '[]', '{}', 0, 0)`).run(`cmp_${remote}`, remote, path.join(OTHER_ROOT, remote));
  } finally {
    db.close();
  }
});

test("the overview, the component page and the Instances page show which instance serves what, and how each instance is", async ({ page }) => {
  await signIn(page);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto("/");
  const row = (name: string) => page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
  const here = row(local).getByTestId("served-by");
  await expect(here).toHaveAttribute("data-state", "live");
  await expect(here).toContainText("served");
  await expect(here).toContainText("this instance");
  const there = row(remote).getByTestId("served-by");
  await expect(there).toHaveAttribute("data-state", "stale");
  await expect(there).toContainText(`last seen ${OTHER_HOST}`);
  await keepScreenshot(page, "overview-served-by", { fullPage: false });
  // (The overview asks the other host's component for its drift, which this instance cannot read: that refusal is expected there.)
  const errors = collectPageErrors(page);

  await page.goto(`/components/${local}`);
  await expect(page.getByTestId("served-by")).toHaveAttribute("data-state", "live");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Instances" }).click();
  await expect(page).toHaveURL(/\/instances$/);
  const instances = page.getByTestId("instance-row");
  await expect(instances).toHaveCount(2);
  const self = instances.filter({ hasText: "this instance" });
  await expect(self.getByTestId("instance-state")).toHaveText("live");
  await expect(self).toContainText(WORKSPACE);
  await expect(self).toContainText("0.1.0");
  const other = page.locator(`[data-instance-id="${OTHER_ID}"]`);
  await expect(other.getByTestId("instance-state")).toHaveText("stale");
  await expect(other).toContainText(OTHER_HOST);
  await expect(other).toContainText(OTHER_ROOT);
  await expect(other.getByTestId("instance-heartbeat-age")).toContainText(/^\d+ s ago$/);
  await keepScreenshot(page, "instances", { fullPage: false });
  expect(errors).toEqual([]);
});
