/**
 * Helpers for the browser tests: the admin token the server wrote on its first
 * start, a bare tRPC-over-HTTP client (Bearer token, plain JSON), a workspace
 * under .e2e-data/workspace (the server's only allowed root) and tree hashing.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { expect, type Page } from "@playwright/test";
import { corruptStoredObjectUndoably } from "../test/support/stored-objects";

export { describeTree, secondMtimes } from "../test/support/tree-listing";

/** Same layout as playwright.config.ts: the server's data directory and its only allowed workspace root. */
export const DATA_DIR = path.resolve(".e2e-data", "data");
export const WORKSPACE = path.resolve(".e2e-data", "workspace");
export const BASE_URL = `http://127.0.0.1:${process.env.E2E_PORT ?? 3917}`;

export function adminToken(): string {
  return readFileSync(path.join(DATA_DIR, "admin-token"), "utf8").trim();
}

interface TrpcError {
  message: string;
  data?: { code?: string; httpStatus?: number };
}

/** Calls a procedure with `Authorization: Bearer <token>`; throws with the server's message on any non-200. */
export async function callApi<T>(procedure: string, input: unknown, options: { token?: string; method?: "query" | "mutation" } = {}): Promise<T> {
  const token = options.token ?? adminToken();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let response: Response;
  if (options.method === "query") {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    response = await fetch(`${BASE_URL}/api/trpc/${procedure}${qs}`, { headers });
  } else {
    response = await fetch(`${BASE_URL}/api/trpc/${procedure}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(input ?? {}),
    });
  }
  const body = (await response.json()) as { result?: { data: T }; error?: TrpcError };
  if (response.status !== 200 || !body.result) throw new Error(`${procedure}: ${response.status} ${body.error?.message ?? JSON.stringify(body)}`);
  return body.result.data;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

export type Tree = Record<string, string | Buffer>;

export function writeTree(root: string, files: Tree): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** sha256 of every file under `root`, by relative path. */
export function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) walk(full);
      else out[path.relative(root, full)] = createHash("sha256").update(readFileSync(full)).digest("hex");
    }
  };
  walk(root);
  return out;
}

export interface CreatedCheckpoint {
  id: string;
  component: string;
  files: number;
  manifestSha256: string;
}

/** A component with a few files (source, test, docs, binary) and one checkpoint of it, made over the API. */
export async function componentWithCheckpoint(prefix: string): Promise<{ name: string; root: string; checkpoint: CreatedCheckpoint }> {
  const name = uniqueName(prefix);
  const root = path.join(WORKSPACE, name);
  writeTree(root, {
    "src/greeting.ts": 'export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n\nexport const VERSION = "1.0.0";\n',
    "src/greeting.test.ts": 'import { greet } from "./greeting";\n\ntest("greets", () => expect(greet("Ada")).toBe("Hello, Ada!"));\n',
    "README.md": "# greeting\n\nSays hello.\n",
    "config.json": '{ "retries": 3, "verbose": false }\n',
    "assets/logo.bin": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256)),
  });
  await callApi("component.upsert", { name, root, exclude: ["node_modules/**"], metadata: { owner: "platform-team", version: "1.0.0" } });
  const checkpoint = await callApi<CreatedCheckpoint>("checkpoint.create", {
    component: name,
    reason: "before the agent refactors greeting",
    agent: "refactor-bot",
    task: "TASK-42",
  });
  return { name, root, checkpoint };
}

/** What a misbehaving agent does: edits a file, deletes one, adds two. */
export function breakWorkspace(root: string): void {
  writeTree(root, {
    "src/greeting.ts": 'export function greet(name: string): string {\n  return "hi " + name; // simplified by the agent\n}\n\nexport const VERSION = "2.0.0-agent";\n',
    "src/farewell.ts": "export const bye = () => 'bye';\n",
    "notes/agent-scratch.md": "temporary notes\n",
  });
  writeFileSync(path.join(root, "config.json"), '{ "retries": 0, "verbose": true }\n');
  rmSync(path.join(root, "README.md"));
}

/** Signs the browser in through the /login form with an API token. */
export async function signIn(page: Page, token = adminToken()): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Token or login code").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Components", level: 1 })).toBeVisible();
}

/** Console errors and uncaught exceptions of a page (hydration mismatches show up here), minus failed-request notices. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** Keeps a screenshot of the page under test-results/screenshots/ (the README's come from here). */
export async function keepScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await page.screenshot({ path: path.join("test-results", "screenshots", `${name}.png`), fullPage: options.fullPage ?? true });
}

/** An I/O failure injected at the CLI's Nth file-system change under `under` (test/support/fault-seam.mjs). */
export interface CliFault {
  after: number;
  under: string;
  mode: "eio" | "enospc";
}

/**
 * Runs the CLI on the server's data directory (the server keeps running: the CLI
 * works beside it). With a fault, the command runs in the CLI's own process (not
 * handed to the server), where the seam is loaded.
 */
export function cli(args: string[], options: { fault?: CliFault } = {}): { status: number | null; stdout: string; stderr: string } {
  const { fault } = options;
  const seam = fault ? ["--import", path.resolve("test", "support", "fault-seam.mjs")] : [];
  const faultEnv = fault
    ? { SAFETYNET_NO_SERVER: "1", SAFETYNET_FAULT_AFTER: String(fault.after), SAFETYNET_FAULT_MODE: fault.mode, SAFETYNET_FAULT_UNDER: fault.under }
    : {};
  const result = spawnSync(process.execPath, [...seam, path.resolve("bin", "safetynet.mjs"), "--data-dir", DATA_DIR, ...args], {
    env: { ...process.env, SAFETYNET_ALLOWED_ROOTS: WORKSPACE, SAFETYNET_URL: "", SAFETYNET_TOKEN: "", ...faultEnv },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `safetynet checkpoint restore <id> --to <new dir>`: the reference an archive must equal. */
export function restoreWithCli(checkpointId: string): string {
  const target = path.join(WORKSPACE, `restored-${checkpointId}-${randomBytes(3).toString("hex")}`);
  const result = cli(["checkpoint", "restore", checkpointId, "--to", target, "--json"]);
  if (result.status !== 0) throw new Error(`checkpoint restore failed (${result.status}): ${result.stderr}${result.stdout}`);
  return target;
}

/** Flips a byte of the stored object holding `content` (raw or compressed); returns a function that puts the object back. */
export function corruptStoredObject(content: string | Buffer): () => void {
  return corruptStoredObjectNamed(createHash("sha256").update(content).digest("hex"));
}

/** Flips a byte of stored object `sha` (e.g. a checkpoint's manifest); returns a function that puts it back. */
export function corruptStoredObjectNamed(sha: string): () => void {
  return corruptStoredObjectUndoably(DATA_DIR, sha);
}

/** Moves a checkpoint (and its create event) to another moment in the server's database: a timeline spread over days. */
export function moveCheckpointInTime(checkpointId: string, iso: string): void {
  const db = new Database(path.join(DATA_DIR, "safetynet.db"));
  try {
    db.pragma("busy_timeout = 10000");
    const at = new Date(iso).toISOString().replace("Z", "+00:00");
    db.prepare(`UPDATE "Checkpoint" SET "createdAt" = ? WHERE "id" = ?`).run(at, checkpointId);
    db.prepare(`UPDATE "AuditEvent" SET "startedAt" = ? WHERE "checkpointId" = ? AND "kind" = 'checkpoint.create'`).run(at, checkpointId);
  } finally {
    db.close();
  }
}
