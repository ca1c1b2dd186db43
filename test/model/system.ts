/**
 * The real system under the model-based test: a workspace and a data directory in
 * a temp folder, reached through the entry points users take: the CLI as a
 * process (local mode), and the tRPC app router's caller with a real principal
 * (an operator API token, authenticated the way an HTTP request is), on a core
 * whose clock the test can move forward (retention). The component has a SQLite
 * database target, `memory.db` (an agent's memory store): the sequence writes it,
 * checkpoints it with `--db` and rolls it back; its files are the database's, so
 * the file views leave them out and the database is compared by its rows.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../server/config";
import { closeCore, openCore, type Core } from "../../server/core";
import { createApiToken } from "../../server/auth/tokens";
import { authenticateRequest } from "../../server/auth/request";
import { createCaller } from "../../server/api/root";
import { isComponentLocked } from "../../server/locks";
import { disableChangeTracking, enableChangeTracking } from "../../server/scan/change-tracker";
import { scanComponent } from "../../server/scan/walk";
import { scanExcludes, scanScope } from "../../server/checkpoints/live-state";
import { getComponent } from "../../server/registry/components";
import type { ScannedEntry } from "../../server/checkpoints/manifest-types";
import { metadataUrlFor } from "../support/metadata-store";
import { readStoredObject } from "../support/stored-objects";
import { privateWatchman, type PrivateWatchman } from "../support/watchman";
import type { S3TestServer } from "../support/s3-server";
import { SequenceBucket, type BucketListing } from "./bucket";
import Database from "better-sqlite3";
import { filterTree, readTree, runCli, testPathBytes, writeTree, type CliOptions, type CliResult, type TreeState, type WorkspaceDirs } from "../support/workspace";

export const COMPONENT = "app";
export const MEMORY_DB = "memory.db";

/** What the workspace holds when a sequence starts (the commands add, change and remove from there). */
const STARTING_TREE = {
  "a.txt": "a version 0\n",
  "b.txt": "b version 0\n",
  "src/x.ts": 'import { y } from "./y";\nexport const x = 0;\n',
  "src/x.test.ts": "src/x.test.ts version 0\n",
  "src/y.ts": "src/y.ts version 0\n",
  "d/e.txt": "d/e.txt version 0\n",
  "d/f/g.txt": "d/f/g.txt version 0\n",
  "debug.log": "ignored\n",
  empty: { dir: true as const },
  link: { link: "a.txt" },
  // A folder large enough to be stored as pages (server/checkpoints/tree-format.ts); it moves with d.
  ...Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`d/many/m-${String(i).padStart(3, "0")}.txt`, `d/many/m-${i} version 0\n`])),
};
const DAY_MS = 86_400_000;
/** A sparse file of the starting tree (a disk image), and the apparent size of every sparse file the test writes. */
export const SPARSE_IMAGE = "disk.img";
export const SPARSE_SIZE = 8 * 1024 * 1024;

/**
 * Writes `file` as a sparse file: SPARSE_SIZE bytes, nearly all holes, with `text`
 * at a few offsets that depend on `version` (one in the last, partial block).
 */
export function writeSparseFile(file: string | Buffer, text: Buffer, version: number): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, SPARSE_SIZE);
    for (const offset of [0, 3 * 1024 * 1024 + 123 * version, SPARSE_SIZE - text.length]) fs.writeSync(fd, text, 0, text.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** How the server's side learns what changed: it walks, asks Watchman, or asks a Watchman daemon restarted mid-sequence. */
export type WatcherMode = "off" | "watchman" | "restart";

export interface Counters {
  sequences: number;
  /** Sequences whose objects live in a bucket (the S3 mode), and what they did there. */
  withBucket: number;
  cacheEmptied: number;
  /** CLI processes run with a tiny cache bound, and of them those that trimmed the cache. */
  tinyCacheRuns: number;
  cacheTrims: number;
  migrations: number;
  outages: number;
  withWatcher: number;
  /** Sequences whose Watchman daemon was restarted, and the restarts. */
  withRestarts: number;
  daemonRestarts: number;
  watcherFallbacks: number;
  /** Checkpoints rewritten in the flat manifest format of the earlier release. */
  flatRewrites: number;
  steps: number;
  cliCalls: number;
  crashes: number;
  rollbacks: number;
  /** Of those, rollbacks of some paths (`--path`) that ran. */
  pathRollbacks: number;
  refusals: number;
  /** Recoveries refused by files put in their way after a crash, cleared as the refusal asked. */
  obstaclesCleared: number;
  /** Checkpoints that recorded the file rewritten under them as unstable (the others stored one whole version). */
  unstableFiles: number;
  /** Checkpoints that held files under more than one name (hard links). */
  hardLinkCheckpoints: number;
  /** Checkpoints that held a sparse file (stored with its holes). */
  sparseCheckpoints: number;
  /** Rollbacks that replaced a memory store the agent had overwritten with bytes that are not a database. */
  brokenStoresReplaced: number;
}

interface ModelEntry {
  path: string;
  kind: string;
  mode: number;
  size: number;
  mtimeMs: number;
  sha256?: string;
  linkTarget?: string;
  unstable?: true;
  hardlinkTo?: string;
  sparse?: { dataBytes: number };
}

interface ModelManifest {
  scope: { kind: string; paths?: string[] };
  databases?: { target: string; sha256: string | null }[];
  entries: ModelEntry[];
}

/** The S3 mode of a sequence: the run's s3rver, and the sequence's own prefix in its bucket. */
export interface BucketMode {
  server: S3TestServer;
  prefix: string;
}

type Api = ReturnType<typeof createCaller>;

export class System {
  clockOffsetMs = 0;
  private seenEvents = new Set<string>();
  private verifiedObjects = new Set<string>();
  readonly log: string[] = [];
  /**
   * In the S3 mode: whether the data directory's objects are in the bucket now
   * (false between `store migrate --to local` and the migration back).
   */
  storeInBucket: boolean;
  /** What the bucket held when last listed (the model's own listing). */
  private listing: BucketListing = new Map();
  /** Objects read since this was set (to check that each is in the bucket). */
  private reads: Set<string> | null = null;
  /** Environment for the next CLI process only, and for every later one. */
  private nextCliEnv: Record<string, string> = {};
  private laterCliEnv: Record<string, string> = {};

  private constructor(
    readonly dirs: WorkspaceDirs,
    /** The server's side; replaced when the server is restarted (around a migration). */
    public core: Core,
    public api: Api,
    readonly counters: Counters,
    /** The daemon the server's side learns from what changed (null: it walks). */
    readonly watchman: PrivateWatchman | null,
    /** The bucket the objects live in (the S3 mode), or null. */
    readonly bucket: SequenceBucket | null,
    private readonly token: string,
  ) {
    this.storeInBucket = bucket !== null;
  }

  get watching(): boolean {
    return this.watchman !== null;
  }

  /** `watchman shutdown-server`: the daemon forgets every clock; the next command of the server's side starts a new one. */
  restartWatchman(): void {
    this.watchman?.shutdown();
  }

  /**
   * `watcher`: the router's operations (the server's side) learn what changed from
   * Watchman instead of walking (`restart`: and the daemon is restarted now and then).
   */
  static async open(counters: Counters, options: { watcher: WatcherMode; bucket?: BucketMode | null } = { watcher: "off" }): Promise<System> {
    // A watcher problem makes the product fall back to walking: counted, not a failure.
    // Each sequence has a Watchman daemon of its own: restarting it disturbs nothing else, and what it watches can be checked.
    const watchman = options.watcher === "off" ? null : privateWatchman();
    if (watchman) {
      const walked = () => void counters.watcherFallbacks++;
      await enableChangeTracking({ binary: watchman.binary, log: { info: (message) => (/cannot vouch|not watching/.test(message) ? walked() : undefined), warn: walked } });
    }
    // Not the test's own temp folders: each sequence removes its own (or keeps it, when asked).
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-model-")));
    const dirs: WorkspaceDirs = { base, root: path.join(base, "workspace"), dataDir: path.join(base, "data") };
    fs.mkdirSync(dirs.root);
    fs.writeFileSync(path.join(dirs.root, ".gitignore"), "*.log\n");
    writeTree(dirs.root, STARTING_TREE);
    writeSparseFile(path.join(dirs.root, SPARSE_IMAGE), Buffer.from(`${SPARSE_IMAGE} version 0\n`), 0);
    fs.writeFileSync(path.join(dirs.base, "outside.txt"), "outside the root\n");
    const bucket = options.bucket ? await SequenceBucket.open(options.bucket.server, options.bucket.prefix) : null;
    const holder: { system?: System } = {};
    const core = System.openServerCore(dirs, bucket?.url ?? null, () => holder.system?.clockOffsetMs ?? 0);
    const token = (await createApiToken(core, { name: "model-operator", role: "operator" })).token;
    const api = await System.callerFor(core, token);
    const system = new System(dirs, core, api, counters, watchman, bucket, token);
    holder.system = system;
    system.writeMemory(0);
    await api.component.upsert({ name: COMPONENT, root: dirs.root, dbTargets: [`sqlite:${MEMORY_DB}`] });
    await system.newEvents();
    return system;
  }

  /** The server's side: a core on the data directory (with its bucket, in the S3 mode) whose clock the test moves. */
  private static openServerCore(dirs: WorkspaceDirs, objectStore: string | null, clockOffsetMs: () => number): Core {
    const previous = process.env.SAFETYNET_ALLOWED_ROOTS;
    process.env.SAFETYNET_ALLOWED_ROOTS = dirs.base;
    try {
      const config = loadConfig({ dataDir: dirs.dataDir, cwd: dirs.base, databaseUrl: metadataUrlFor(dirs.dataDir) ?? null });
      return openCore(objectStore ? { ...config, objectStore } : config, { now: () => new Date(Date.now() + clockOffsetMs()) });
    } finally {
      if (previous === undefined) delete process.env.SAFETYNET_ALLOWED_ROOTS;
      else process.env.SAFETYNET_ALLOWED_ROOTS = previous;
    }
  }

  /** The app router's caller for the operator token, authenticated the way an HTTP request is. */
  private static async callerFor(core: Core, token: string): Promise<Api> {
    const auth = await authenticateRequest(core, new Request("http://127.0.0.1/api/trpc", { headers: { authorization: `Bearer ${token}` } }));
    if (!auth.principal) throw new Error(`the model's token did not authenticate: ${auth.problem}`);
    return createCaller({ core, principal: auth.principal, authProblem: null, req: null, retryAfterSeconds: null });
  }

  /** Stops the server's side (its database, its bucket client); a migration needs it stopped. */
  private async closeServerCore(): Promise<void> {
    this.core.store.bucket?.bucket.close();
    await closeCore(this.dirs.dataDir);
  }

  /**
   * `safetynet store migrate --to <to>` as an operator runs it: the server is
   * stopped first (a migration is refused while one runs) and started again
   * after, on wherever the objects are then. The CLI's result, whatever it is.
   */
  async migrateStore(to: "local" | "bucket"): Promise<CliResult> {
    const bucket = this.bucket as SequenceBucket;
    await this.closeServerCore();
    const result = await this.cli(["store", "migrate", "--to", to === "local" ? "local" : bucket.url]);
    if (result.status === 0) this.storeInBucket = to === "bucket";
    // Started as a server is: with the setting only while the objects are in the bucket.
    this.core = System.openServerCore(this.dirs, this.storeInBucket ? bucket.url : null, () => this.clockOffsetMs);
    this.api = await System.callerFor(this.core, this.token);
    return result;
  }

  get root(): string {
    return this.dirs.root;
  }

  /** Closes the database and removes the folders (a long run makes thousands of them). */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    await disableChangeTracking();
    // Turning tracking off removes every watch it made.
    const left = this.watchman?.watchList() ?? [];
    this.watchman?.stop();
    await this.closeServerCore();
    await this.bucket?.close();
    if (left.length > 0) throw new Error(`Watchman still watches ${left.join(", ")} after change tracking was turned off`);
    if (!options.keep) fs.rmSync(this.dirs.base, { recursive: true, force: true });
  }

  /**
   * With the watcher: where the server's view of the whole component (what its next
   * operation would scan, re-reading only what the watcher reported) differs from a
   * walk of the tree. The watcher is never a source of truth, so this is always empty.
   * Folder mtimes are left out, as everywhere in the model: the promises are about
   * files, and a folder's mtime moves with any entry made and removed in it, even
   * between two watcher reports that then cancel out.
   */
  async watcherDifferences(): Promise<string[]> {
    if (!this.watching) return [];
    const component = await getComponent(this.core, COMPONENT);
    const server = await scanScope(this.core, component, { kind: "all" });
    const walked = scanComponent(component.root, { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(this.core, component), scope: { kind: "all" } });
    const describe = (e: ScannedEntry) => (e.kind === "dir" ? `dir ${e.mode.toString(8)}` : `${e.kind} ${e.mode.toString(8)} ${e.size} ${e.mtimeMs} ${e.ino} ${e.linkTarget ?? ""}`);
    const seen = new Map(server.map((e) => [e.path, describe(e)]));
    const truth = new Map(walked.map((e) => [e.path, describe(e)]));
    const problems: string[] = [];
    for (const [rel, what] of truth) if (seen.get(rel) !== what) problems.push(`${rel}: the tree has ${what}, the watcher's view ${seen.get(rel) ?? "nothing"}`);
    for (const [rel, what] of seen) if (!truth.has(rel)) problems.push(`${rel}: the watcher's view has ${what}, the tree nothing`);
    return problems;
  }

  moveClock(days: number): void {
    this.clockOffsetMs += days * DAY_MS;
  }

  /** The workspace's files, without the memory store's database files (see memoryContents). */
  tree(): TreeState {
    return filterTree(readTree(this.root), (rel) => !rel.startsWith(MEMORY_DB));
  }

  /**
   * An agent's memory write: one transaction that adds a row tagged `version` and
   * forgets some old ones. Odd versions leave the store in SQLite's default
   * rollback-journal mode, even ones in WAL mode: snapshots and restores meet both.
   */
  writeMemory(version: number): void {
    const db = new Database(path.join(this.root, MEMORY_DB));
    try {
      db.pragma(`journal_mode = ${version % 2 === 0 ? "WAL" : "DELETE"}`);
      db.exec("CREATE TABLE IF NOT EXISTS memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
      db.transaction(() => {
        db.prepare("INSERT INTO memories (text) VALUES (?)").run(`memory version ${version}`);
        if (version % 3 === 2) db.prepare("DELETE FROM memories WHERE id % 2 = 0").run();
        if (version % 4 === 3) db.exec(`CREATE TABLE IF NOT EXISTS topic_${version} (x)`);
      })();
    } finally {
      db.close();
    }
  }

  /**
   * The agent breaks its memory store: the database file overwritten with bytes
   * that are not a database (`seed` picks them; a few sizes, one of them shorter
   * than SQLite's header). Journal files are left as they are.
   */
  corruptMemory(seed: number): void {
    const length = [37, 4096, 10_000][seed % 3] as number;
    const bytes = Buffer.alloc(length);
    for (let at = 0, block = 0; at < length; block++) {
      const digest = createHash("sha256").update(`garbage ${seed} ${block}`).digest();
      at += digest.copy(bytes, at);
    }
    fs.writeFileSync(path.join(this.root, MEMORY_DB), bytes);
  }

  /** Is the memory store's file a database SQLite can open (or absent)? Not after corruptMemory. */
  memoryIsDatabase(): boolean {
    return !this.memoryContents().startsWith("raw:");
  }

  /**
   * Everything the memory store holds (tables, definitions, rows), "absent", or,
   * for a file that is not a database, "raw:" and the sha256 of its bytes and of
   * its journal files (what must come back byte for byte).
   */
  memoryContents(): string {
    const file = path.join(this.root, MEMORY_DB);
    if (!fs.existsSync(file)) return "absent";
    const header = fs.readFileSync(file).subarray(0, 16).toString("latin1");
    if (header !== "SQLite format 3\0") {
      const sha = (f: string) => (fs.existsSync(f) ? createHash("sha256").update(fs.readFileSync(f)).digest("hex").slice(0, 16) : "-");
      return `raw:${sha(file)}:${sha(`${file}-wal`)}:${sha(`${file}-journal`)}`;
    }
    const db = new Database(file, { readonly: true });
    try {
      const tables = db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").all() as { name: string; sql: string | null }[];
      return JSON.stringify(tables.map((t) => [t.name, t.sql, t.sql?.startsWith("CREATE TABLE") ? db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all() : null]));
    } finally {
      db.close();
    }
  }

  /** Table names and row counts of `contents` (what `checkpoint diff` compares). */
  static memoryShape(contents: string): string {
    if (contents === "absent" || contents.startsWith("raw:")) return contents;
    return JSON.stringify((JSON.parse(contents) as [string, string | null, unknown[] | null][]).filter(([, , rows]) => rows !== null).map(([name, , rows]) => [name, rows?.length]));
  }

  contentOf(rel: string): string {
    try {
      return fs.readFileSync(testPathBytes(path.join(this.root, rel)), "utf8");
    } catch {
      return "";
    }
  }

  /**
   * Runs the CLI as a process. In the S3 mode every process is given the
   * bucket (SAFETYNET_OBJECT_STORE) while the objects are there, and the
   * credentials s3rver accepts.
   */
  async cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
    this.counters.cliCalls++;
    const once = { ...this.laterCliEnv, ...this.nextCliEnv };
    this.nextCliEnv = {};
    const bucketEnv = this.bucket ? { ...this.bucket.server.env, ...(this.storeInBucket ? { SAFETYNET_OBJECT_STORE: this.bucket.url } : {}) } : {};
    const tiny = once.SAFETYNET_CACHE_MAX_BYTES !== undefined;
    const cachedBefore = tiny ? this.cachedObjects() : [];
    const result = await runCli(this.dirs, [...args, "--json"], { ...options, env: { ...bucketEnv, ...once, ...options.env } });
    if (tiny) {
      this.counters.tinyCacheRuns++;
      // (Only a trim removes cached objects in the processes the model runs: no sweep runs through the CLI.)
      const after = new Set(this.cachedObjects());
      if (cachedBefore.some((name) => !after.has(name))) this.counters.cacheTrims++;
    }
    return result;
  }

  /** The next CLI process (only, or `from now on`: every later one) runs with this environment too. */
  cliEnv(env: Record<string, string>, options: { fromNowOn?: boolean } = {}): void {
    if (options.fromNowOn) this.laterCliEnv = { ...this.laterCliEnv, ...env };
    else this.nextCliEnv = { ...this.nextCliEnv, ...env };
  }

  /** The object files in the data directory's store (a bucket's cache, in the S3 mode). */
  cachedObjects(): string[] {
    const dir = path.join(this.dirs.dataDir, "store", "objects");
    const out: string[] = [];
    for (const fanout of readDirOrEmpty(dir)) for (const name of readDirOrEmpty(path.join(dir, fanout))) out.push(name);
    return out;
  }

  /** Lists what the bucket holds now and fetches the objects not read yet (the S3 mode). */
  async refreshBucket(): Promise<BucketListing> {
    if (!this.bucket) return this.listing;
    this.listing = await this.bucket.list();
    await this.bucket.fetchObjects(this.listing);
    return this.listing;
  }

  /** Objects staged in the outbox (waiting to be uploaded). */
  stagedObjects(): Set<string> {
    return new Set(readDirOrEmpty(path.join(this.dirs.dataDir, "store", "outbox")).filter((name) => name !== "records"));
  }

  /**
   * In the S3 mode, after a step that completed a change: nothing it staged is
   * left in the outbox (`everything`, after a checkpoint: nothing at all, since
   * its flush uploads whatever was staged before it; `killed`: a process was
   * SIGKILLed in this sequence, so a marker of an object it never finished
   * writing may stay until it is old enough to be dropped), no snapshot record
   * waits, and the bucket's snapshot records are exactly the data directory's,
   * byte for byte: the bucket alone rebuilds what the data directory knows.
   */
  async bucketProblems(options: { stagedBefore: ReadonlySet<string>; everything: boolean; killed: boolean }): Promise<string[]> {
    if (!this.bucket || !this.storeInBucket) return [];
    const problems: string[] = [];
    const store = path.join(this.dirs.dataDir, "store");
    const outbox = path.join(store, "outbox");
    for (const name of this.stagedObjects()) {
      if (!options.everything && options.stagedBefore.has(name)) continue;
      const stored = readDirOrEmpty(path.join(store, "objects", name.slice(0, 2))).some((file) => file === name || file === `${name}.z`);
      if (stored || !options.killed) problems.push(`outbox: object ${name} is still staged (${stored ? "it is in the cache" : "not in the cache"}${options.stagedBefore.has(name) ? ", staged before this step" : ""})`);
    }
    for (const id of readDirOrEmpty(path.join(outbox, "records"))) problems.push(`outbox: snapshot record ${id} is still waiting to be uploaded`);
    const listing = await this.refreshBucket();
    const remote = new Set([...listing.keys()].filter((key) => key.startsWith("snapshots/") && key.endsWith(".json")));
    for (const name of readDirOrEmpty(path.join(store, "snapshots"))) {
      if (!name.endsWith(".json") || name.startsWith(".")) continue;
      const key = `snapshots/${name}`;
      if (!remote.delete(key)) {
        problems.push(`snapshot record ${name} is in the data directory, not in the bucket`);
        continue;
      }
      const local = fs.readFileSync(path.join(store, "snapshots", name));
      const there = await this.bucket.read(key, { fresh: true });
      if (!local.equals(there)) problems.push(`snapshot record ${name}: the bucket's copy differs from the data directory's (${there.toString("utf8").slice(0, 300)} vs ${local.toString("utf8").slice(0, 300)})`);
    }
    for (const key of remote) problems.push(`${key} is in the bucket, not in the data directory (a rebuild from the bucket would bring back a checkpoint the data directory no longer has)`);
    return problems;
  }

  /** Snapshot records in the data directory and in the bucket (ids), to compare before and after a failed operation. */
  async snapshotRecordIds(): Promise<{ local: string[]; bucket: string[] }> {
    const local = readDirOrEmpty(path.join(this.dirs.dataDir, "store", "snapshots")).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
    const listing = this.bucket && this.storeInBucket ? await this.bucket.list() : new Map<string, number>();
    return { local, bucket: [...listing.keys()].filter((k) => k.startsWith("snapshots/")).sort() };
  }

  journals(): string[] {
    try {
      return fs.readdirSync(path.join(this.dirs.dataDir, "journal")).filter((n) => n.endsWith(".json"));
    } catch {
      return [];
    }
  }

  async componentId(): Promise<string> {
    return (await this.core.db.component.findUniqueOrThrow({ where: { name: COMPONENT } })).id;
  }

  async locked(): Promise<boolean> {
    return isComponentLocked(this.core.locks, await this.componentId());
  }

  /** History events recorded since the last call, oldest first. */
  async newEvents(): Promise<{ kind: string; outcome: string; error: string | null; checkpointId: string | null }[]> {
    const rows = await this.core.db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { id: true, kind: true, outcome: true, error: true, checkpointId: true } });
    const fresh = rows.filter((row) => !this.seenEvents.has(row.id));
    for (const row of fresh) this.seenEvents.add(row.id);
    return fresh;
  }

  /**
   * Reads an object straight from the store's folder (inflating a compressed one)
   * and checks its sha256 (the test's own reading, not the product's). With the
   * objects in a bucket, one not in the cache is read from the bucket's copy as
   * last listed (refreshBucket).
   */
  storedObject(sha256: string): Buffer {
    this.reads?.add(sha256);
    let bytes: Buffer;
    try {
      bytes = readStoredObject(this.dirs.dataDir, sha256);
    } catch (error) {
      const remote = this.bucket && this.storeInBucket ? this.bucket.objectContent(sha256, this.listing) : null;
      if (!remote) throw error;
      bytes = remote;
    }
    if (!this.verifiedObjects.has(sha256)) {
      const actual = createHash("sha256").update(bytes).digest("hex");
      if (actual !== sha256) throw new Error(`object ${sha256} is corrupt (hashes to ${actual})`);
      this.verifiedObjects.add(sha256);
    }
    return bytes;
  }

  /**
   * The sha256 of the file content a manifest entry stands for. A sparse entry's
   * object is its data, then per extent an offset and a length, then the apparent
   * size, the extent count (u64 big-endian each) and "SNSPARS1": the test lays the
   * data out at its offsets itself and hashes the whole file, holes as zeros.
   */
  contentSha(entry: { sha256?: string; sparse?: { dataBytes: number } }): string | undefined {
    if (entry.sha256 === undefined || !entry.sparse) return entry.sha256;
    const stored = this.storedObject(entry.sha256);
    const trailer = stored.length - 24;
    if (stored.subarray(trailer + 16).toString("latin1") !== "SNSPARS1") throw new Error(`${entry.sha256}: a sparse entry whose object does not end with the sparse trailer`);
    const size = Number(stored.readBigUInt64BE(trailer));
    const count = Number(stored.readBigUInt64BE(trailer + 8));
    const logical = Buffer.alloc(size);
    let data = 0;
    for (let i = 0; i < count; i++) {
      const at = trailer - (count - i) * 16;
      const offset = Number(stored.readBigUInt64BE(at));
      const length = Number(stored.readBigUInt64BE(at + 8));
      stored.copy(logical, offset, data, data + length);
      data += length;
    }
    if (data !== entry.sparse.dataBytes) throw new Error(`${entry.sha256}: ${data} bytes of data, the manifest says ${entry.sparse.dataBytes}`);
    return createHash("sha256").update(logical).digest("hex");
  }

  /**
   * A checkpoint's manifest, read by the model itself: a flat one (earlier releases)
   * as it is, a tree one (version 4: a root record naming one object per folder; a
   * large folder's object is an index of pages, each holding a run of its children)
   * walked folder by folder, every object verified, into the same flat list.
   */
  manifest(sha256: string): ModelManifest {
    const parsed = JSON.parse(this.storedObject(sha256).toString("utf8")) as ModelManifest & { version: number; root?: string };
    if (parsed.version !== 4) return parsed;
    const entries: ModelEntry[] = [];
    const walk = (treeSha: string, folder: string) => {
      type Children = (Omit<ModelEntry, "path"> & { name: string; tree?: string; implicit?: true })[];
      const tree = JSON.parse(this.storedObject(treeSha).toString("utf8")) as { children?: Children; pages?: string[] };
      const children = tree.pages ? tree.pages.flatMap((page) => (JSON.parse(this.storedObject(page).toString("utf8")) as { children: Children }).children) : (tree.children ?? []);
      for (const { name, tree: subtree, implicit, ...rest } of children) {
        const entryPath = folder === "" ? name : `${folder}/${name}`;
        if (!implicit) entries.push({ ...rest, path: entryPath, size: rest.kind === "dir" ? 0 : rest.size });
        if (subtree !== undefined) walk(subtree, entryPath);
      }
    };
    walk(parsed.root as string, "");
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { scope: parsed.scope, databases: parsed.databases, entries };
  }

  /** Every active checkpoint is restorable: its manifest and every file object it names are in the store and intact. */
  async verifyActiveCheckpoints(): Promise<string[]> {
    const problems: string[] = [];
    const rows = await this.core.db.checkpoint.findMany({ where: { status: "active" }, select: { id: true, manifestSha: true } });
    const inBucket = this.bucket !== null && this.storeInBucket;
    if (inBucket) await this.refreshBucket();
    for (const row of rows) {
      // With a bucket, the bucket is the store: every object the checkpoint is read through, and holds, must be there.
      this.reads = inBucket ? new Set() : null;
      try {
        for (const database of this.manifest(row.manifestSha).databases ?? []) {
          if (!database.sha256) continue;
          try {
            this.storedObject(database.sha256);
          } catch (error) {
            problems.push(`${row.id}: database ${database.target}: ${(error as Error).message}`);
          }
        }
        for (const entry of this.manifest(row.manifestSha).entries) {
          // An unstable file has no content to keep.
          if (entry.kind !== "file" || entry.unstable) continue;
          try {
            this.storedObject(entry.sha256 as string);
          } catch (error) {
            problems.push(`${row.id}: ${entry.path}: ${(error as Error).message}`);
          }
        }
      } catch (error) {
        problems.push(`${row.id}: manifest: ${(error as Error).message}`);
      }
      for (const sha256 of this.reads ?? []) {
        const key = `objects/${sha256.slice(0, 2)}/${sha256}`;
        if (!this.listing.has(key) && !this.listing.has(`${key}.z`)) problems.push(`${row.id}: object ${sha256} is not in the bucket`);
      }
      this.reads = null;
    }
    return problems;
  }
}

function readDirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
