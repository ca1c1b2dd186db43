/**
 * The warm path: while a server runs on a data directory, the local CLI hands
 * the commands agents run all day to it over <data dir>/server.sock, with the
 * same output, exit codes and history actor as running them itself; without a
 * server (or for other commands) it runs them itself.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, makeComponent } from "./api";
import { PACKAGE_ROOT, startServer, type RunningServer } from "./server";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";
import { runCliUnread } from "../support/workspace";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("the CLI on a data directory a server runs on", () => {
  let server: RunningServer;
  let admin: Api;
  const cli = (args: string[], env: Record<string, string> = {}): Run => {
    const base = { ...process.env };
    for (const key of ["SAFETYNET_URL", "SAFETYNET_TOKEN", "SAFETYNET_ACTOR"]) delete base[key];
    const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), ...args], {
      // The metadata store's setting too: on the PostgreSQL pass the CLI must find the server's metadata where it is.
      env: { ...base, SAFETYNET_DATA_DIR: server.dataDir, SAFETYNET_ALLOWED_ROOTS: server.workspace, ...metadataEnvFor(server.dataDir), ...objectStoreEnvFor(server.dataDir), ...env },
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const servedCommands = () => readFileSync(server.logFile, "utf8").split("\n").filter((line) => line.includes('"local-socket.command"')).length;

  beforeAll(async () => {
    server = await startServer({ name: "warm" });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves its sockets (the CLI's and the agents' hooks') 0600 inside the data directory", () => {
    for (const name of ["server.sock", "hook.sock"]) {
      const socket = statSync(path.join(server.dataDir, name));
      expect(socket.isSocket(), name).toBe(true);
      expect(socket.mode & 0o777, name).toBe(0o600);
    }
  });

  it("runs checkpoint, diff, rollback --yes and history on the server, with the CLI's output, exit codes and actor", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n", "b.txt": "b\n" });
    const before = servedCommands();

    const created = cli(["checkpoint", "create", name, "--reason", "warm", "--json"]);
    expect(created.status, created.stderr).toBe(0);
    const checkpoint = JSON.parse(created.stdout) as { id: string; component: string; files: number; manifestSha256: string };
    expect(checkpoint).toMatchObject({ component: name, files: 2, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    writeFileSync(path.join(root, "a.txt"), "v2\n");
    const diff = cli(["checkpoint", "diff", checkpoint.id]);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(/^M a\.txt$/m);

    const rolledBack = cli(["rollback", checkpoint.id, "--yes", "--json"]);
    expect(rolledBack.status, rolledBack.stderr).toBe(0);
    expect(JSON.parse(rolledBack.stdout)).toMatchObject({ checkpointId: checkpoint.id, outcome: "succeeded", restored: 1 });
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v1\n");

    const unknown = cli(["checkpoint", "verify", "cp_00000000000000000000", "--json"]);
    expect(unknown.status).toBe(5);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: "NOT_FOUND" } });

    // (The server's log lines reach its log file asynchronously.)
    await expect.poll(() => servedCommands() - before, { timeout: 5_000 }).toBe(4);
    const history = await admin.get<{ items: { kind: string; actor: string }[] }>("history.list", { component: name });
    const user = os.userInfo().username;
    expect(history.items.filter((e) => e.kind === "checkpoint.create" || e.kind === "rollback").map((e) => e.actor)).toEqual([`cli:${user}`, `cli:${user}`]);
  });

  it("answers sessions and log on the server too, as the CLI does itself", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const before = servedCommands();
    expect(cli(["checkpoint", "create", name, "--task", "T-warm", "--json"]).status).toBe(0);
    writeFileSync(path.join(root, "a.txt"), "v2\n");
    expect(cli(["checkpoint", "create", name, "--task", "T-warm", "--json"]).status).toBe(0);

    const served = { sessions: cli(["sessions", name, "--json"]), log: cli(["log", name, "a.txt", "--json"]) };
    const itself = { sessions: cli(["sessions", name, "--json"], { SAFETYNET_NO_SERVER: "1" }), log: cli(["log", name, "a.txt", "--json"], { SAFETYNET_NO_SERVER: "1" }) };

    expect(served.sessions.status, served.sessions.stderr).toBe(0);
    expect(JSON.parse(served.sessions.stdout)).toEqual(JSON.parse(itself.sessions.stdout));
    expect(JSON.parse(served.sessions.stdout).items).toEqual([expect.objectContaining({ task: "T-warm", steps: 2 })]);
    expect(served.log.status, served.log.stderr).toBe(0);
    expect(JSON.parse(served.log.stdout)).toEqual(JSON.parse(itself.log.stdout));
    // Two checkpoints, then sessions and log: the runs with SAFETYNET_NO_SERVER=1 are not served.
    await expect.poll(() => servedCommands() - before, { timeout: 5_000 }).toBe(4);
  });

  it("finishes a handed-over command with its own exit code when nobody reads the CLI's output (| head)", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const unread = (args: string[]) => runCliUnread(args, { SAFETYNET_DATA_DIR: server.dataDir, SAFETYNET_ALLOWED_ROOTS: server.workspace, ...metadataEnvFor(server.dataDir), ...objectStoreEnvFor(server.dataDir) });
    const before = servedCommands();

    expect(await unread(["checkpoint", "create", name, "--reason", "piped into head"])).toEqual({ status: 0, signal: null });
    const list = await admin.get<{ items: { id: string; reason: string }[] }>("checkpoint.list", { component: name });
    const checkpoint = list.items.find((c) => c.reason === "piped into head");
    expect(checkpoint).toBeDefined();

    writeFileSync(path.join(root, "a.txt"), "v2\n");
    expect(await unread(["rollback", checkpoint?.id ?? "", "--yes"])).toEqual({ status: 0, signal: null });
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v1\n");
    expect((await unread(["checkpoint", "verify", "cp_00000000000000000000"])).status).toBe(5);
    // All three went through the server, not the CLI's own process.
    await expect.poll(() => servedCommands() - before, { timeout: 5_000 }).toBe(3);
  });

  it("answers --help --json on the server with one JSON object, as the CLI does itself", async () => {
    const before = servedCommands();

    const help = cli(["checkpoint", "list", "--help", "--json"]);

    expect(help.status, help.stderr).toBe(0);
    expect(JSON.parse(help.stdout)).toEqual({ help: expect.stringMatching(/^Usage: safetynet checkpoint list \[options\] \[component\]/) });
    await expect.poll(() => servedCommands() - before, { timeout: 5_000 }).toBe(1);
  });

  it("runs other commands itself while the server runs, and everything itself once the server is gone", async () => {
    const before = servedCommands();
    // `component add` resolves a path of the caller's: never handed over (here refused, the folder does not exist).
    const added = cli(["component", "add", "local-only", "--root", path.join(server.workspace, "does-not-exist"), "--json"]);
    expect(added.status).toBe(2);
    expect(JSON.parse(added.stdout)).toMatchObject({ error: { message: expect.stringMatching(/component root does not exist/) } });
    expect(servedCommands()).toBe(before);

    await server.terminate();
    const listed = cli(["component", "list", "--json"]);
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });
});

describe("the CLI whose server dies while it runs the command", () => {
  let server: RunningServer;
  let admin: Api;
  const COMPONENT = "doomed";

  beforeAll(async () => {
    // This server's process is SIGKILLed at its 2nd file-system change inside the component's folder
    // (test/support/fault-seam.mjs): the rename of the first file a rollback restores.
    server = await startServer({
      name: "warm-dies",
      env: ({ workspace }) => ({
        NODE_OPTIONS: `--import ${path.join(PACKAGE_ROOT, "test", "support", "fault-seam.mjs")}`,
        SAFETYNET_FAULT_AFTER: "2",
        SAFETYNET_FAULT_MODE: "kill",
        SAFETYNET_FAULT_UNDER: path.join(workspace, COMPONENT),
      }),
    });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const cli = (args: string[]): Run => {
    const base = { ...process.env };
    for (const key of ["SAFETYNET_URL", "SAFETYNET_TOKEN", "SAFETYNET_ACTOR", "NODE_OPTIONS", "SAFETYNET_FAULT_AFTER"]) delete base[key];
    const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), ...args], {
      env: { ...base, SAFETYNET_DATA_DIR: server.dataDir, SAFETYNET_ALLOWED_ROOTS: server.workspace, ...metadataEnvFor(server.dataDir), ...objectStoreEnvFor(server.dataDir) },
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it("with --json still prints one JSON object: exit 1, the server went away, the outcome is unknown and what to check; the next command completes the rollback", async () => {
    const { root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n", "b.txt": "b1\n" }, COMPONENT);
    const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: COMPONENT });
    writeFileSync(path.join(root, "a.txt"), "v2\n");
    writeFileSync(path.join(root, "b.txt"), "b2\n");

    const cut = cli(["rollback", checkpoint.id, "--yes", "--json"]);

    expect(cut.status).toBe(1);
    const { error } = JSON.parse(cut.stdout) as { error: { code: string; message: string; details: Record<string, unknown> } };
    expect(error.code).toBe("FAILED");
    expect(error.message).toBe(
      `the server running \`safetynet rollback ${checkpoint.id}\` ended the connection before the command finished (it stopped or died): its outcome is unknown. ` +
        "See `safetynet history` for what it did; a rollback it interrupted is journaled, and the next command (or `safetynet recover`) completes it",
    );
    expect(error.details).toEqual({ serverGone: true, outcome: "unknown", command: `rollback ${checkpoint.id}`, check: "safetynet history", completeWith: "safetynet recover" });
    expect(cut.stderr).toBe("");
    expect(readdirSync(path.join(server.dataDir, "journal")).filter((n) => n.endsWith(".json"))).toHaveLength(1);

    // The server is gone (its socket file stays): the CLI runs the next command itself, completing the rollback first.
    const next = cli(["history", COMPONENT, "--json"]);
    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/completed interrupted rollback rb_\w+ of doomed to /);
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v1\n");
    expect(readFileSync(path.join(root, "b.txt"), "utf8")).toBe("b1\n");
  });
});
