/**
 * What an auditor and an admin meet in the console: the history filtered by agent
 * and task and its formula-safe export, the retention policy preview in words,
 * the token form, the last-admin warning, sign-in errors and the header once a
 * session ends.
 */
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { parseCsv } from "../test/support/csv";
import { callApi, componentWithCheckpoint, signIn, uniqueName, writeTree } from "./support";

const MALICIOUS_REASON = '=HYPERLINK("http://evil.example/","click me")';

test("the history filters by agent and task, and its CSV export carries them in their own columns, formula-safe", async ({ page }) => {
  const { name, root } = await componentWithCheckpoint("audit");
  const agent = uniqueName("auditor-bot");
  const mine = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: MALICIOUS_REASON, agent, task: "AUDIT-1" });
  writeTree(root, { "README.md": "# changed\n" });
  await callApi("checkpoint.create", { component: name, reason: "another task", agent, task: "AUDIT-2" });

  await signIn(page);
  await page.goto("/history");
  await page.getByLabel("Agent (exact)").fill(agent);
  await page.getByLabel("Task / session (exact)").fill("AUDIT-1");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`agent=${agent}.*task=AUDIT-1`));
  const rows = page.getByTestId("history-table").locator("tbody tr[data-kind]");
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId("event-agent-task")).toHaveText(`agent ${agent} · task AUDIT-1`);

  const downloading = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const file = await (await downloading).path();
  const [header, ...records] = parseCsv(readFileSync(file, "utf8"));
  expect(header).toEqual(["id", "startedAt", "kind", "outcome", "actor", "component", "checkpointId", "rollbackId", "reason", "agent", "task", "session", "durationMs", "files", "bytes", "checksum", "error", "details"]);
  expect(records).toHaveLength(1);
  const record = Object.fromEntries((header as string[]).map((h, i) => [h, records[0]?.[i]]));
  expect(record).toMatchObject({ kind: "checkpoint.create", checkpointId: mine.id, reason: `'${MALICIOUS_REASON}`, agent, task: "AUDIT-1", session: `${name}/AUDIT-1` });
});

test("the retention policy preview says what it keeps and removes in words, when removals start, and applies to existing dates only when asked", async ({ page }) => {
  const { name, root, checkpoint: first } = await componentWithCheckpoint("retain");
  writeTree(root, { "README.md": "# second\n" });
  await callApi("checkpoint.create", { component: name, reason: "second" });

  await signIn(page);
  await page.goto("/retention");
  await page.getByLabel("Policy of").selectOption(`component:${name}`);
  await page.getByLabel("Keep last").fill("1");
  await page.getByRole("button", { name: "Preview this policy" }).click();
  const forecast = page.getByTestId("policy-forecast");
  await expect(forecast.getByTestId("forecast-start")).toHaveText(/^Nothing would be removed now; the first checkpoint expires on \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \(in (6|7) days\), if no new checkpoint is taken\.$/);
  await expect(forecast.getByTestId("forecast-words")).toHaveText(/^would remove: none; kept: \d+ as the newest of their component, \d+ by their own retention date\.$/);
  await expect(forecast).toContainText("Existing checkpoints keep the retention date they were taken with");

  const apply = page.getByLabel("Apply to existing checkpoints' dates");
  await expect(apply).not.toBeChecked();
  await apply.check();
  await expect(forecast).toHaveCount(0);
  await page.getByRole("button", { name: "Preview this policy" }).click();
  await expect(forecast.getByTestId("forecast-start")).toHaveText("The next retention run would remove 1 checkpoint.");
  await expect(forecast.getByTestId("forecast-words")).toHaveText(/^would remove: 1 past their own retention date; kept: /);
  await expect(forecast.getByTestId("forecast-redated")).toHaveText("2 existing checkpoints would get an earlier retention date from this policy.");
  // Pinned, the older checkpoint is kept whatever the policy, and the words count it.
  await callApi("checkpoint.pin", { id: first.id, pinned: true });
  await page.getByRole("button", { name: "Preview this policy" }).click();
  await expect(forecast.getByTestId("forecast-words")).toHaveText(/^would remove: none; kept: (.+, )?1 pinned(, .+)?\.$/);
  // A preview saves nothing.
  const stored = await callApi<{ policies: { scope: string }[] }>("retention.get", { component: name }, { method: "query" });
  expect(stored.policies.map((p) => p.scope)).not.toContain(`component:${name}`);

  await page.getByRole("button", { name: "Preview the next run" }).click();
  await expect(page.getByTestId("retention-preview").getByTestId("retention-words")).toHaveText(/^would remove: (none|\d+ past [a-z -]+); kept: \d+ /);
});

test("the token form clears after creating a token, and revoking the last admin token warns that only the CLI gets back in", async ({ page }) => {
  // Admin tokens other specs left behind would hide the warning: only the bootstrap one stays.
  const { items } = await callApi<{ items: { name: string; role: string; revokedAt: string | null }[] }>("auth.listTokens", undefined, { method: "query" });
  for (const token of items.filter((t) => t.role === "admin" && !t.revokedAt && t.name !== "admin")) await callApi("auth.revokeToken", { name: token.name });

  await signIn(page);
  await page.goto("/tokens");
  const second = uniqueName("second-admin");
  const form = page.getByRole("form", { name: "Create a token" });
  await form.getByLabel(/^Name/).fill(second);
  await form.getByLabel("Role").selectOption("admin");
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("token-secret")).toHaveText(/^sn_/);
  await expect(form.getByLabel(/^Name/)).toHaveValue("");
  await expect(form.getByLabel("Role")).toHaveValue("agent");

  const adminRow = page.locator('[data-testid="token-row"][data-token-name="admin"]');
  await adminRow.getByRole("button", { name: "Revoke…" }).click();
  await expect(page.getByRole("alertdialog")).toBeVisible();
  await expect(page.getByTestId("last-admin-warning")).toHaveCount(0);
  await page.getByRole("button", { name: "Cancel" }).click();

  await page.locator(`[data-testid="token-row"][data-token-name="${second}"]`).getByRole("button", { name: "Revoke…" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator(`[data-testid="token-row"][data-token-name="${second}"]`)).toHaveAttribute("data-revoked", "true");

  await adminRow.getByRole("button", { name: "Revoke…" }).click();
  const warning = page.getByTestId("last-admin-warning");
  await expect(warning).toContainText("This is the last admin token.");
  await expect(warning).toContainText("safetynet token create <name> --role admin");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(adminRow).toHaveAttribute("data-revoked", "false");
});

test("a failed sign-in is an error, announced as an alert", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Token or login code").fill("sn_not-a-real-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Sign-in failed" });
  await expect(alert).toBeVisible();
  await expect(alert).toHaveClass(/border-bad/);
  await expect(alert).toHaveClass(/bg-bad/);
  await expect(alert.getByText("Sign-in failed:")).toHaveClass(/text-bad/);
});

test("the header says the session ended when it ends between two in-app navigations", async ({ page }) => {
  const token = await callApi<{ name: string; token: string }>("auth.createToken", { name: uniqueName("viewer"), role: "viewer" });
  await signIn(page, token.token);
  await expect(page.getByTestId("session-badge")).toHaveAttribute("data-session", "active");
  await callApi("auth.revokeToken", { name: token.name });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "History" }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fhistory&reason=expired$/);
  await expect(page.getByTestId("session-badge")).toHaveAttribute("data-session", "ended");
  await expect(page.getByTestId("session-badge")).toContainText("Session ended");
  await expect(page.getByText(`${token.name}`, { exact: true })).toHaveCount(0);
});
