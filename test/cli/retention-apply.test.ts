/**
 * `safetynet retention set --apply-to-existing` and `--dry-run`: a policy's
 * forecast in words, and existing checkpoints' own retention dates brought
 * forward only when asked.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, runCli, type WorkspaceDirs } from "../support/workspace";
import type { RetentionPolicySetResult } from "../../server/retention/policy";
import type { RetentionRunResult } from "../../server/retention/run";

beforeAll(assertCliBundleFresh);
/** Each test runs the CLI eight times or so, one process each. */
const CLI_TEST_MS = 240_000;
cleanUpAfterEach();

interface CheckpointDetail {
  id: string;
  createdAt: string;
  retentionUntil: string;
}

/** Three checkpoints of web, each kept 7 days by its own date. */
async function threeCheckpoints(ws: WorkspaceDirs): Promise<string[]> {
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    fs.writeFileSync(path.join(ws.root, "a.txt"), `version ${i}\n`);
    ids.push((await cliJson<{ id: string }>(ws, ["checkpoint", "create", "web"])).id);
  }
  return ids;
}

describe("safetynet retention set", () => {
  it("--dry-run says what a policy would do and saves nothing; by default existing checkpoints keep their dates", async () => {
    const ws = makeWorkspaceDirs("cli-retention-apply");
    const ids = await threeCheckpoints(ws);
    const text = await runCli(ws, ["retention", "set", "--component", "web", "--keep-last", "1", "--dry-run"]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain("dry run, nothing saved: component:web policy: keepLast 1");
    expect(text.stdout).toContain("would remove: none; kept: 1 as the newest of their component, 2 by their own retention date");
    expect(text.stdout).toMatch(/the first checkpoint expires on \d{4}-\d{2}-\d{2}T/);
    expect((await cliJson<{ policies: unknown[] }>(ws, ["retention", "get"])).policies).toEqual([]);

    const saved = await cliJson<RetentionPolicySetResult>(ws, ["retention", "set", "--component", "web", "--keep-last", "1"]);
    expect(saved.forecast).toMatchObject({ applyToExisting: false, redated: 0, expireNow: 0 });
    const first = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", ids[0] as string]);
    expect(Date.parse(first.retentionUntil) - Date.parse(first.createdAt)).toBe(7 * 86_400_000);
    expect((await cliJson<RetentionRunResult>(ws, ["retention", "run", "--dry-run"])).expired).toEqual([]);
  }, CLI_TEST_MS);

  it("--apply-to-existing brings the existing checkpoints' dates forward, so the next run removes what the policy does not keep", async () => {
    const ws = makeWorkspaceDirs("cli-retention-apply");
    const ids = await threeCheckpoints(ws);
    const preview = await runCli(ws, ["retention", "set", "--component", "web", "--keep-last", "1", "--apply-to-existing", "--dry-run"]);
    expect(preview.stdout).toContain("would remove: 2 past their own retention date; kept: 1 as the newest of their component");
    expect(preview.stdout).toContain("3 existing checkpoint(s) get an earlier retention date from this policy");
    expect(preview.stdout).toContain("the next retention run would remove 2 checkpoint(s)");

    const saved = await cliJson<RetentionPolicySetResult>(ws, ["retention", "set", "--component", "web", "--keep-last", "1", "--apply-to-existing"]);
    expect(saved).toMatchObject({ dryRun: false, forecast: { applyToExisting: true, redated: 3, expireNow: 2 } });
    const first = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", ids[0] as string]);
    expect(first.retentionUntil).toBe(first.createdAt);
    const run = await cliJson<RetentionRunResult>(ws, ["retention", "run"]);
    expect(run.expired.map((d) => d.checkpointId).sort()).toEqual([ids[0], ids[1]].sort());
    expect(run.summary).toEqual({ kept: [{ rule: "newest", count: 1 }], expired: [{ rule: "retention-until", count: 2 }] });
  }, CLI_TEST_MS);

  it("refuses --apply-to-existing with --reset (exit 2, naming the option)", async () => {
    const ws = makeWorkspaceDirs("cli-retention-apply");
    await threeCheckpoints(ws);
    const refused = await runCli(ws, ["retention", "set", "--component", "web", "--reset", "--apply-to-existing", "--json"]);
    expect(refused.status).toBe(2);
    expect(refused.stdout + refused.stderr).toMatch(/applyToExisting/);
  }, CLI_TEST_MS);
});
