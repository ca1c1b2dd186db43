/**
 * The plain HTTP downloads beside tRPC, against the production server: a
 * checkpoint as .tar.gz / .zip (GET /api/checkpoints/<id>/archive) and the audit
 * history as CSV / JSON (GET /api/history/export), with the API's authentication,
 * roles and scope; and `safetynet checkpoint export` in remote mode.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent, uniqueName, writeTree, type CreatedToken } from "./api";
import { PACKAGE_ROOT, runCli } from "./server";
import { parseCsv } from "../support/csv";
import { describeTree, secondMtimes } from "../support/tree-listing";
import { isCompressedObjectFile, storedObjectFile } from "../support/stored-objects";
import { copyObjectFileToBucket, deleteObjectFromBucket } from "../support/object-store-location";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const scratch = mkdtempSync(path.join(os.tmpdir(), "safetynet-downloads-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function get(url: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.baseUrl}${url}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
}

interface ErrorBody {
  error: { message: string; data: { httpStatus: number; code: string; field: string | null; details: Record<string, unknown> | null } };
}

async function errorOf(response: Response, status: number): Promise<ErrorBody["error"]> {
  const body = (await response.json()) as ErrorBody;
  expect(response.status, body.error?.message).toBe(status);
  expect(body.error.data.httpStatus).toBe(status);
  return body.error;
}

/** A component with an executable, a private file, a symlink, an empty folder and a 2 MB file, checkpointed. */
async function checkpointedComponent(): Promise<{ name: string; root: string; id: string }> {
  const name = uniqueName("dl");
  const root = path.join(server.workspace, name);
  writeTree(root, { "src/app.ts": "export const app = 1;\n", "bin/run.sh": "#!/bin/sh\necho run\n", "secret.env": "TOKEN=1\n", "data/big.bin": Buffer.alloc(2_000_000, 9) });
  chmodSync(path.join(root, "bin/run.sh"), 0o755);
  chmodSync(path.join(root, "secret.env"), 0o600);
  symlinkSync("../src/app.ts", path.join(root, "bin/app-link"));
  mkdirSync(path.join(root, "empty"));
  await admin.call("component.upsert", { name, root });
  const created = await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: "for the archive" });
  return { name, root, id: created.id };
}

/** `safetynet checkpoint restore` on the server's data directory (the reference the archives must equal). */
function restored(id: string): string {
  const target = path.join(server.workspace, `restored-${id}`);
  const result = runCli(server.dataDir, ["checkpoint", "restore", id, "--to", target, "--json"], { SAFETYNET_ALLOWED_ROOTS: server.workspace });
  expect(result.status, result.stderr).toBe(0);
  return target;
}

function extract(file: string, format: "tar.gz" | "zip"): string {
  const into = mkdtempSync(path.join(scratch, "x-"));
  if (format === "zip") execFileSync("unzip", ["-q", file, "-d", into]);
  else execFileSync("tar", ["-xzf", file, "-C", into]);
  return into;
}

describe("GET /api/checkpoints/<id>/archive", () => {
  let viewer: CreatedToken;
  beforeAll(async () => {
    viewer = await createToken(admin, "viewer");
  });

  it("streams a .tar.gz (viewer token) equal to `checkpoint restore`: bytes, modes, links, empty folders and mtimes", async () => {
    const { name, id } = await checkpointedComponent();
    const response = await get(`/api/checkpoints/${id}/archive?format=tar.gz`, viewer.token);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/gzip");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${name}-${id}.tar.gz"`);
    const file = path.join(scratch, `${id}.tar.gz`);
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));

    const folder = path.join(extract(file, "tar.gz"), `${name}-${id}`);
    const reference = restored(id);
    expect(describeTree(folder)).toEqual(describeTree(reference));
    expect(describeTree(folder)["bin/run.sh"]).toMatch(/^file 755 /);
    expect(describeTree(folder)["bin/app-link"]).toBe("link -> ../src/app.ts");
    expect(secondMtimes(folder)).toEqual(secondMtimes(reference));
  });

  it("streams a .zip with the session cookie of a signed-in browser", async () => {
    const { name, id } = await checkpointedComponent();
    const login = await fetch(`${server.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: viewer.token }).toString(),
      redirect: "manual",
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const response = await get(`/api/checkpoints/${id}/archive?format=zip`, undefined, { cookie });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/zip");
    const file = path.join(scratch, `${id}.zip`);
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    expect(describeTree(path.join(extract(file, "zip"), `${name}-${id}`))).toEqual(describeTree(restored(id)));
  });

  it("refuses without credentials (401), a bad format (400, naming it), an unknown id (404), and another component for a scoped token (403, in words)", async () => {
    const { name, id } = await checkpointedComponent();
    const anonymous = await get(`/api/checkpoints/${id}/archive?format=zip`);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await errorOf(anonymous, 401);
    const format = await errorOf(await get(`/api/checkpoints/${id}/archive?format=rar`, viewer.token), 400);
    expect(format.message).toBe("invalid format: format is tar.gz or zip");
    expect(format.data.field).toBe("format");
    await errorOf(await get(`/api/checkpoints/cp_doesnotexist/archive?format=zip`, viewer.token), 404);

    const other = await makeComponent(admin, server.workspace, { "x.txt": "x\n" });
    const scoped = await createToken(admin, "viewer", [other.name]);
    const refused = await errorOf(await get(`/api/checkpoints/${id}/archive?format=zip`, scoped.token), 403);
    expect(refused.message).toMatch(new RegExp(`^this token may not act on component "${name}"`));
    expect(refused.data.details).toMatchObject({ reason: "scope", component: name });
  });

  it("breaks the download off when an object is corrupt, then refuses (422, naming the file) before the first byte once the damage is known, and when an object is missing", async () => {
    const { id } = await checkpointedComponent();
    const bigSha = sha256(Buffer.alloc(2_000_000, 9));
    const objectPath = storedObjectFile(server.dataDir, bigSha);
    const original = readFileSync(objectPath);
    const mode = statSync(objectPath).mode & 0o777;
    try {
      const corrupt = Buffer.from(original);
      // Late in the stored bytes (in a compressed object's stream): the download starts before it is found.
      const at = isCompressedObjectFile(objectPath) ? Math.floor(original.length / 2) : 1_500_000;
      corrupt[at] = (corrupt[at] as number) ^ 0xff;
      chmodSync(objectPath, 0o600);
      writeFileSync(objectPath, corrupt);
      // With a bucket, its copy there too (a damaged cached copy alone is replaced by the bucket's).
      await copyObjectFileToBucket(server.dataDir, bigSha);
      const response = await get(`/api/checkpoints/${id}/archive?format=tar.gz`, viewer.token);
      expect(response.status).toBe(200);
      await expect(response.arrayBuffer()).rejects.toThrow();
      const checkpoint = await admin.get<{ verifyState: string; damagedFiles: { path: string; state: string }[] }>("checkpoint.get", { id });
      expect(checkpoint.verifyState).toBe("corrupt");
      expect(checkpoint.damagedFiles).toContainEqual(expect.objectContaining({ path: "data/big.bin", state: "corrupt" }));

      // Known now: refused before the first byte rather than broken off again.
      const refused = await errorOf(await get(`/api/checkpoints/${id}/archive?format=tar.gz`, viewer.token), 422);
      expect(refused.message).toMatch(/refused before the first byte: 1 stored object\(s\) are damaged: data\/big\.bin \(corrupt\)/);
      expect(refused.message).toMatch(/intact files only/);
      expect(refused.data.details).toMatchObject({ intactAvailable: true, problems: [expect.objectContaining({ path: "data/big.bin", state: "corrupt" })] });

      // (With a bucket, the export's check of the damage has already dropped the damaged cached copy.)
      rmSync(objectPath, { force: true });
      await deleteObjectFromBucket(server.dataDir, bigSha);
      const missing = await errorOf(await get(`/api/checkpoints/${id}/archive?format=zip`, viewer.token), 422);
      expect(missing.message).toMatch(/data\/big\.bin \(missing\)/);
    } finally {
      rmSync(objectPath, { force: true });
      writeFileSync(objectPath, original, { mode });
      await copyObjectFileToBucket(server.dataDir, bigSha);
    }
  });
});

describe("safetynet checkpoint export against a server", () => {
  function cli(args: string[], token: string) {
    const env = { ...process.env };
    for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN"]) delete env[key];
    return spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--url", server.baseUrl, "--token", token, ...args], { cwd: scratch, env, encoding: "utf8" });
  }

  it("downloads the archive to the file (equal to restore), and exits 4 leaving nothing when the server finds a damaged object", async () => {
    const { name, id } = await checkpointedComponent();
    const viewer = await createToken(admin, "viewer");
    const file = path.join(scratch, `remote-${id}.tar.gz`);
    const ok = cli(["checkpoint", "export", id, "--format", "tar.gz", "-o", file, "--json"], viewer.token);
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { archiveSha256: string; archiveBytes: number };
    expect(report.archiveSha256).toBe(sha256(readFileSync(file)));
    expect(describeTree(path.join(extract(file, "tar.gz"), `${name}-${id}`))).toEqual(describeTree(restored(id)));

    const bigSha = sha256(Buffer.alloc(2_000_000, 9));
    const objectPath = storedObjectFile(server.dataDir, bigSha);
    const original = readFileSync(objectPath);
    const mode = statSync(objectPath).mode & 0o777;
    try {
      const corrupt = Buffer.from(original);
      corrupt[0] = (corrupt[0] as number) ^ 0xff;
      rmSync(objectPath);
      writeFileSync(objectPath, corrupt);
      await copyObjectFileToBucket(server.dataDir, bigSha);
      const target = path.join(scratch, `bad-${id}.tar.gz`);
      const bad = cli(["checkpoint", "export", id, "--format", "tar.gz", "-o", target, "--json"], viewer.token);
      expect(bad.status, bad.stdout + bad.stderr).toBe(4);
      expect((JSON.parse(bad.stdout) as { error: { code: string; message: string } }).error).toMatchObject({ code: "INTEGRITY", message: expect.stringMatching(/data\/big\.bin \(corrupt\); nothing was written/) });
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(scratch).filter((n) => n.includes(".tmp"))).toEqual([]);
    } finally {
      rmSync(objectPath, { force: true });
      writeFileSync(objectPath, original, { mode });
      await copyObjectFileToBucket(server.dataDir, bigSha);
    }
  });
});

interface HistoryItem {
  id: string;
  kind: string;
  actor: string;
  startedAt: string;
  [key: string]: unknown;
}

/** Every page of history.list for `filter`, as the API gives them. */
async function allHistory(api: Api, filter: Record<string, unknown>): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api.get<{ items: HistoryItem[]; nextCursor: string | null }>("history.list", { ...filter, limit: 200, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
}

describe("GET /api/history/export", () => {
  let name: string;
  let builder: CreatedToken;

  beforeAll(async () => {
    // More events than one export page (500): 560 upserts by an operator named build-bot-<n>.
    ({ name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n" }));
    builder = await admin.call<CreatedToken>("auth.createToken", { name: uniqueName("build-bot"), role: "operator" });
    const asBuilder = admin.as(builder.token);
    const root = path.join(server.workspace, name);
    for (let batch = 0; batch < 70; batch++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => asBuilder.call("component.upsert", { name, root, metadata: { n: batch * 8 + i } })));
    }
    await admin.call("checkpoint.create", { component: name, reason: 'a reason with "quotes", commas\nand a line break' });
  }, 240_000);

  it("downloads every matching event as CSV, every page, in the order and with the values history.list gives", async () => {
    const response = await get(`/api/history/export?format=csv&component=${name}`, server.adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(new RegExp(`^attachment; filename="safetynet-history-${name}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
    const [header, ...rows] = parseCsv(await response.text());
    const expected = await allHistory(admin, { component: name });
    expect(expected.length).toBeGreaterThan(560);
    expect(header).toEqual(["id", "startedAt", "kind", "outcome", "actor", "component", "checkpointId", "rollbackId", "reason", "agent", "task", "session", "durationMs", "files", "bytes", "checksum", "error", "details"]);
    expect(rows.map((r) => r[0])).toEqual(expected.map((e) => e.id));
    const byColumn = (row: string[]) => Object.fromEntries((header as string[]).map((h, i) => [h, row[i]]));
    const created = rows.map(byColumn).find((r) => r.kind === "checkpoint.create");
    const createdEvent = expected.find((e) => e.kind === "checkpoint.create");
    expect(JSON.parse(created?.details ?? "null")).toEqual(createdEvent?.details);
    expect(created?.actor).toBe("token:admin");
    expect(Number(created?.durationMs)).toBe(createdEvent?.durationMs);
  });

  it("downloads JSON whose items equal history.list's, with the date range and the partial actor match applied", async () => {
    const all = await allHistory(admin, { component: name });
    const since = all[all.length - 1]?.startedAt as string;
    const filter = { component: name, actor: "build-bot", kind: "component.upsert", since };
    const response = await get(`/api/history/export?format=json&${new URLSearchParams(filter).toString()}`, server.adminToken);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { filters: unknown; items: HistoryItem[] };
    expect(body.filters).toEqual(filter);
    const expected = await allHistory(admin, filter);
    expect(body.items).toEqual(expected);
    expect(expected.length).toBe(560);
    expect(new Set(body.items.map((i) => i.actor))).toEqual(new Set([`token:${builder.name}`]));
  });

  it("applies the caller's scope, and refuses bad filters (400 naming them) and anonymous callers (401)", async () => {
    const scoped = await createToken(admin, "viewer", [name]);
    const mine = (await (await get("/api/history/export?format=json", scoped.token)).json()) as { items: HistoryItem[] };
    expect(mine.items.length).toBeGreaterThan(560);
    expect(new Set(mine.items.map((i) => i.component))).toEqual(new Set([name]));
    const other = await makeComponent(admin, server.workspace, { "b.txt": "b\n" });
    const refused = await errorOf(await get(`/api/history/export?format=csv&component=${other.name}`, scoped.token), 403);
    expect(refused.message).toMatch(/this token may not act on component/);

    expect((await errorOf(await get("/api/history/export?format=xml", server.adminToken), 400)).data.field).toBe("format");
    expect((await errorOf(await get("/api/history/export?format=csv&kind=nonsense", server.adminToken), 400)).data.field).toBe("kind");
    expect((await errorOf(await get("/api/history/export?format=csv&since=yesterday", server.adminToken), 400)).data.field).toBe("since");
    await errorOf(await get("/api/history/export?format=csv"), 401);
    expectError(await admin.as(undefined).query("history.list"), 401);
  });
});
