/**
 * The CLI in remote mode (--url/--token or SAFETYNET_URL/SAFETYNET_TOKEN): every
 * command that supports it talks to the running server through @trpc/client, with
 * the same output, the same --json contract and the documented exit codes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, hashTree, makeComponent, uniqueName, writeTree, type CreatedToken } from "./api";
import { freePort, PACKAGE_ROOT } from "./server";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

/** Where the remote CLI runs: an empty folder, to prove it never creates a local data directory. */
const cwd = mkdtempSync(path.join(os.tmpdir(), "safetynet-cli-remote-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without any local data-dir setting; `env` adds variables. */
function cli(args: string[], env: Record<string, string> = {}): Run {
  const base = { ...process.env };
  for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN", "SAFETYNET_DEBUG"]) delete base[key];
  const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), ...args], { cwd, env: { ...base, ...env }, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function remote(token: string): string[] {
  return ["--url", server.baseUrl, "--token", token];
}

/** Exactly one JSON object on stdout, and the expected exit code. */
function json<T = Record<string, unknown>>(run: Run, status = 0): T {
  expect(run.status, `exit ${run.status}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`).toBe(status);
  const value = JSON.parse(run.stdout) as unknown;
  expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
  return value as T;
}

interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe("safetynet --url/--token: the CLI against a running server", () => {
  let operator: CreatedToken;
  let agent: CreatedToken;
  let viewer: CreatedToken;

  beforeAll(async () => {
    [operator, agent, viewer] = await Promise.all([createToken(admin, "operator"), createToken(admin, "agent"), createToken(admin, "viewer")]);
  });

  it("component add/list, checkpoint create/list/show/diff/verify, rollback --dry-run/--yes, history: the full flow", async () => {
    const name = uniqueName("remote");
    const root = path.join(server.workspace, name);
    writeTree(root, { "src/index.ts": "export const answer = 42;\n", "src/util.ts": "export const twice = (n: number) => n * 2;\n", "README.md": "# demo\n" });
    const before = hashTree(root);

    const added = json<{ name: string; root: string }>(cli(["--json", ...remote(operator.token), "component", "add", name, "--root", root, "--meta", "owner=alice"]));
    expect(added).toMatchObject({ name, root });
    const components = json<{ items: { name: string }[] }>(cli(["--json", ...remote(operator.token), "component", "list"]));
    expect(components.items.map((c) => c.name)).toContain(name);
    const table = cli([...remote(operator.token), "component", "list"]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${name}\\s+${root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"));

    // The agent works through the environment variables instead of flags.
    const agentEnv = { SAFETYNET_URL: server.baseUrl, SAFETYNET_TOKEN: agent.token };
    const created = json<{ id: string; component: string; files: number; bytes: number; newBytes: number; durationMs: number; manifestSha256: string }>(
      cli(["checkpoint", "create", name, "--reason", "remote CLI", "--meta", "task=9", "--json"], agentEnv),
    );
    expect(created).toMatchObject({ id: expect.stringMatching(/^cp_/), component: name, files: 3, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(typeof created.newBytes).toBe("number");

    const human = cli(["checkpoint", "create", name, "--reason", "human output"], agentEnv);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^checkpoint cp_\\w+ of ${name}\\n  3 files`));

    writeFileSync(path.join(root, "src/index.ts"), "export const answer = 41;\n");
    rmSync(path.join(root, "README.md"));
    writeTree(root, { "src/new.ts": "export {};\n" });

    const list = json<{ items: { id: string; reason: string | null }[] }>(cli(["checkpoint", "list", name, "--json"], agentEnv));
    expect(list.items.map((c) => c.reason)).toEqual(["human output", "remote CLI"]);

    const shown = json<{ id: string; callerMeta: Record<string, unknown>; entries: { path: string }[] }>(cli(["checkpoint", "show", created.id, "--entries", "--json"], agentEnv));
    expect(shown.id).toBe(created.id);
    expect(shown.callerMeta).toMatchObject({ task: "9" });
    expect(shown.entries.map((e) => e.path)).toEqual(expect.arrayContaining(["README.md", "src/index.ts", "src/util.ts"]));

    const diff = cli(["checkpoint", "diff", created.id, "--patch"], agentEnv);
    expect(diff.status, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("A src/new.ts");
    expect(diff.stdout).toContain("M src/index.ts");
    expect(diff.stdout).toContain("D README.md");
    expect(diff.stdout).toContain("-export const answer = 42;");

    const verified = json<{ state: string }>(cli(["checkpoint", "verify", created.id, "--json"], agentEnv));
    expect(verified.state).toBe("verified");

    const dryRun = json<{ checkpointId: string; restore: { path: string }[]; delete: { path: string }[]; unchanged: number; confirmToken?: string }>(
      cli(["rollback", created.id, "--dry-run", "--json"], agentEnv),
    );
    expect(dryRun.restore.map((r) => r.path).sort()).toEqual(["README.md", "src/index.ts"]);
    expect(dryRun.delete.map((d) => d.path)).toEqual(["src/new.ts"]);
    expect(dryRun.confirmToken).toBeUndefined();
    expect(hashTree(root)).not.toEqual(before);

    // Without a terminal and without --yes nothing is changed.
    const refused = json<ErrorJson>(cli(["rollback", created.id, "--json"], agentEnv), 2);
    expect(refused.error.message).toMatch(/--yes/);
    expect(existsSync(path.join(root, "src/new.ts"))).toBe(true);

    const rolledBack = json<{ rollbackId: string; checkpointId: string; outcome: string; durationMs: number; restored: number; deleted: number; safetyCheckpointId: string }>(
      cli(["rollback", created.id, "--yes", "--json"], agentEnv),
    );
    expect(rolledBack).toMatchObject({ checkpointId: created.id, outcome: "succeeded", restored: 2, deleted: 1, rollbackId: expect.stringMatching(/^rb_/) });
    expect(hashTree(root)).toEqual(before);

    const history = json<{ items: { kind: string; actor: string; outcome: string }[] }>(cli(["history", name, "--json"], agentEnv));
    expect(history.items.find((h) => h.kind === "rollback")).toMatchObject({ actor: `token:${agent.name}`, outcome: "succeeded" });
    expect(history.items.find((h) => h.kind === "component.upsert")).toMatchObject({ actor: `token:${operator.name}` });
    const historyTable = cli(["history", name, "--kind", "rollback"], agentEnv);
    expect(historyTable.stdout).toContain(`token:${agent.name}`);

    // Nothing local was created by any of this.
    expect(existsSync(path.join(cwd, ".safetynet"))).toBe(false);
  });

  it("maps API errors to the documented exit codes, with one JSON object under --json", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });

    const badToken = cli(["--json", ...remote("sn_not-a-real-token"), "checkpoint", "list"]);
    const unauthenticated = json<ErrorJson>(badToken, 1).error;
    expect(unauthenticated.message).toMatch(/^authentication failed: .*\(HTTP 401\)/);
    expect(unauthenticated.details).toMatchObject({ httpStatus: 401 });
    const badTokenHuman = cli([...remote("sn_not-a-real-token"), "checkpoint", "list"]);
    expect(badTokenHuman.status).toBe(1);
    expect(badTokenHuman.stdout).toBe("");
    expect(badTokenHuman.stderr).toMatch(/^safetynet: authentication failed: .*check --token \/ SAFETYNET_TOKEN/);

    const forbidden = json<ErrorJson>(cli(["--json", ...remote(viewer.token), "checkpoint", "create", name]), 1).error;
    expect(forbidden.message).toMatch(/^permission denied: .*viewer.*\(HTTP 403\)/);
    expect(forbidden.details).toMatchObject({ httpStatus: 403 });

    const scoped = await createToken(admin, "agent", [name]);
    const other = await makeComponent(admin, server.workspace, { "b.txt": "b\n" });
    expect(json<ErrorJson>(cli(["--json", ...remote(scoped.token), "checkpoint", "create", other.name]), 1).error.message).toMatch(/^permission denied: /);

    const notFound = json<ErrorJson>(cli(["--json", ...remote(agent.token), "checkpoint", "show", "cp_doesnotexist"]), 5).error;
    expect(notFound).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("cp_doesnotexist") });
    expect(json<ErrorJson>(cli(["--json", ...remote(agent.token), "rollback", "cp_doesnotexist", "--yes"]), 5).error.code).toBe("NOT_FOUND");
    expect(json<ErrorJson>(cli(["--json", ...remote(agent.token), "checkpoint", "create", "no-such-component"]), 5).error.code).toBe("NOT_FOUND");

    // 400 from the server (the engine refuses `..`), and from the shared schema before any request.
    const dotdot = json<ErrorJson>(cli(["--json", ...remote(agent.token), "checkpoint", "create", name, "--path", "../outside.txt"]), 2).error;
    expect(dotdot).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^invalid paths\.0: .*"\.\."/) });
    expect(dotdot.details).toMatchObject({ httpStatus: 400, field: "paths.0" });
    const outsideRoot = json<ErrorJson>(cli(["--json", ...remote(operator.token), "component", "add", uniqueName("x"), "--root", os.tmpdir()]), 2).error;
    expect(outsideRoot.details).toMatchObject({ httpStatus: 400 });
    expect(json<ErrorJson>(cli(["--json", ...remote(agent.token), "checkpoint", "create", "bad name"]), 2).error.message).toMatch(/^invalid component/);
  });

  it("says clearly when the server cannot be reached or is not a Safety Net API", async () => {
    const port = await freePort();
    const down = json<ErrorJson>(cli(["--json", "--url", `http://127.0.0.1:${port}`, "--token", "sn_x", "component", "list"]), 1).error;
    expect(down.message).toMatch(new RegExp(`^cannot reach the Safety Net server at http://127.0.0.1:${port}: .*ECONNREFUSED`));

    const elsewhere = json<ErrorJson>(cli(["--json", "--url", `${server.baseUrl}/not-the-api`, "--token", agent.token, "component", "list"]), 1).error;
    expect(elsewhere.message).toMatch(/did not answer like a Safety Net API \(HTTP 404/);

    // A URL that already ends in /api/trpc works too.
    expect(cli(["--json", "--url", `${server.baseUrl}/api/trpc/`, "--token", agent.token, "component", "list"]).status).toBe(0);
  });

  it("refuses ambiguous or incomplete remote settings, and local-only commands, with exit 2", () => {
    const noToken = json<ErrorJson>(cli(["--json", "--url", server.baseUrl, "component", "list"]), 2).error;
    expect(noToken.message).toMatch(/needs a token: pass --token or set SAFETYNET_TOKEN/);

    const both = json<ErrorJson>(cli(["--json", ...remote(agent.token), "--data-dir", cwd, "component", "list"]), 2).error;
    expect(both.message).toMatch(/--url and --data-dir exclude each other/);

    expect(json<ErrorJson>(cli(["--json", "--url", "ftp://example.invalid", "--token", "x", "history"]), 2).error.message).toMatch(/invalid --url/);
    expect(json<ErrorJson>(cli(["--json", "--token", agent.token, "history"]), 2).error.message).toMatch(/--token needs a server/);

    const localOnly: [string, string[]][] = [
      ["token list", ["token", "list"]],
      ["recover", ["recover"]],
      ["retention run", ["retention", "run", "--dry-run"]],
      ["checkpoint restore", ["checkpoint", "restore", "cp_x", "--to", cwd]],
    ];
    for (const [command, args] of localOnly) {
      const refused = json<ErrorJson>(cli(["--json", ...remote(agent.token), ...args]), 2).error;
      expect(refused.message).toContain(`\`safetynet ${command}\` works only on a local data directory`);
    }

    // SAFETYNET_URL is overridden by an explicit --data-dir: local mode.
    const dataDir = path.join(cwd, "explicit-data");
    const local = cli(["--json", "--data-dir", dataDir, "component", "list"], { SAFETYNET_URL: server.baseUrl, SAFETYNET_TOKEN: agent.token });
    expect(json<{ items: unknown[] }>(local).items).toEqual([]);
    expect(existsSync(dataDir)).toBe(true);
  });

  it("guard works against the server too: checkpoint and automatic rollback over HTTP", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "src/a.txt": "original\n" });
    const script = `require("fs").writeFileSync(${JSON.stringify(path.join(root, "src/a.txt"))}, "broken\\n"); process.exit(7);`;
    const run = cli(["--json", ...remote(agent.token), "guard", name, "--auto-rollback", "--", process.execPath, "-e", script]);
    expect(run.status, run.stderr).toBe(7);
    const report = JSON.parse(run.stdout) as { checkpointId: string; rollback: { outcome: string; restored: number } | null; rollbackCommand: string };
    expect(report.rollback).toMatchObject({ outcome: "succeeded", restored: 1 });
    expect(report.rollbackCommand).toBe(`safetynet --url ${server.baseUrl} rollback ${report.checkpointId}`);
    expect(readFileSync(path.join(root, "src/a.txt"), "utf8")).toBe("original\n");
    const history = await admin.get<{ items: { kind: string; actor: string }[] }>("history.list", { component: name, kind: "rollback" });
    expect(history.items.map((h) => h.actor)).toEqual([`token:${agent.name}`]);
  });
});
