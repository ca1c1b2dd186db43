/**
 * A checkpoint as a downloadable archive (.tar.gz or .zip, written by archiver),
 * streamed straight from the object store: nothing is staged on disk.
 *
 * Every file's object is re-hashed while it streams, and the last chunk of each
 * file is held back until its sha256 and size match the manifest: a damaged
 * object makes the archive stream fail with an IntegrityError (naming the file)
 * instead of ending as a short or wrong archive. Missing objects are found before
 * the first byte (so an HTTP caller still gets a clean 422). Damage found either
 * way is recorded on the checkpoint before the error is raised.
 *
 * A checkpoint with damage already known (recorded by a check, or found by an
 * earlier export) is refused before the first byte, naming the files: streaming
 * would only break off at the first of them. Asked for its intact files only, it
 * is archived without them, each listed in the notes as left out, under a file
 * name that says `partial`.
 *
 * Entries sit under one folder, `<component>-<checkpoint id>/`, in manifest
 * order (parents before children), with the manifest's permission bits and mtimes;
 * symlinks are stored as links (never followed), empty folders as folders. A
 * checkpoint's database snapshots follow in `.safetynet-databases/`: each as it is
 * stored (a SQLite file, a pg_dump custom-format archive, the in-process COPY
 * archive, or the raw bytes of a file that was not a database, with its journal
 * files), verified the same way, with `databases.json` describing them.
 *
 * A sparse file keeps its holes in a tar (GNU sparse format 1.0, tar-writer.ts):
 * only its data is streamed. A zip cannot hold a hole: a sparse file of up to
 * ZIP_SPARSE_EXPAND_LIMIT bytes is stored with its holes written out as zeros
 * (which deflate to almost nothing), a larger one is left out, with a note.
 */
import { createHash } from "node:crypto";
import fsp from "node:fs/promises";
import type { ObjectContent } from "../store/object-store";
import type { ObjectState } from "../store/object-errors";
import { PassThrough, Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { ZipArchive, type Archiver } from "archiver";
import { nameBytes } from "../byte-paths";
import { freeName, zipEscape, zipNames, type ArchiveNote } from "./zip-names";
import { tarBlocks, type TarEntry } from "./tar-writer";
import type { Core } from "../core";
import { IntegrityError, describeFsError } from "../errors";
import type { ArchiveFormat } from "../schemas";
import type { Manifest, ManifestEntry } from "./manifest-types";
import { databasesOf } from "./manifest";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import { findCheckpointRow } from "./queries";
import { readCheckpointManifest, recordDamageFound, storedProblems, type DamagedObject } from "./integrity-record";
import { readSparseLayout, SparseFormatError, type SparseLayout } from "../store/sparse-format";

const CHUNK = 256 * 1024;
/** Largest apparent size of a sparse file a zip holds (with its holes as zeros); larger ones are left out of a zip. */
export const ZIP_SPARSE_EXPAND_LIMIT = 64 * 1024 * 1024;

export interface CheckpointArchive {
  checkpointId: string;
  component: string;
  format: ArchiveFormat;
  /** `<component>-<checkpoint id>.tar.gz` */
  fileName: string;
  contentType: string;
  /** Entries in the archive (files, folders, symlinks) and the bytes of file content. */
  entries: number;
  bytes: number;
  /**
   * Entries the archive could not hold as they are: names a zip cannot hold
   * (escaped), and files the checkpoint holds no content for (left out). Also
   * listed in `.safetynet-export-notes.json` inside the archive.
   */
  notes: ArchiveNote[];
  /** Damaged files left out (asked for the intact files only); the file name then says partial. */
  leftOut: DamagedObject[];
  /** The archive's bytes. Fails (IntegrityError) if a stored object does not match the manifest. */
  stream: Readable;
}

export interface ArchiveOptions {
  /** Leave the checkpoint's damaged files out (each listed in the notes) instead of refusing the archive. */
  intactOnly?: boolean;
}

const CONTENT_TYPES: Record<ArchiveFormat, string> = { "tar.gz": "application/gzip", zip: "application/zip" };

function damageError(problems: DamagedObject[], phase: string): IntegrityError {
  const named = problems
    .slice(0, 10)
    .map((p) => `${p.path ?? "manifest"} (${p.state})`)
    .join(", ");
  return new IntegrityError(`archive ${phase}: ${problems.length} stored object(s) are damaged: ${named}`, { problems });
}

/** The damaged files a refusal names, and what can be done instead. */
function refusal(problems: DamagedObject[]): IntegrityError {
  const error = damageError(problems, "refused before the first byte");
  return new IntegrityError(
    `${error.message}. An archive of the intact files only can be downloaded instead (intact=1; the CLI's --intact), or verify the checkpoint again if the store was repaired`,
    { problems, intactAvailable: true },
  );
}

/** The damaged files of a checkpoint: those its row records (a stale manifest record is not: the manifest was just read) and those missing now, one per object. */
function damagedFiles(recorded: readonly DamagedObject[], missing: readonly DamagedObject[]): DamagedObject[] {
  const byObject = new Map<string, DamagedObject>();
  for (const p of [...recorded, ...missing]) if (p.path !== null) byObject.set(`${p.path}\0${p.sha256}`, p);
  return [...byObject.values()];
}

/** Checks that every file's object exists, and opens the archive stream. */
export async function openCheckpointArchive(core: Core, checkpointId: string, format: ArchiveFormat, options: ArchiveOptions = {}): Promise<CheckpointArchive> {
  const row = await findCheckpointRow(core, checkpointId);
  const manifest = await readCheckpointManifest(core, row);
  const databases = databaseEntries(manifest);
  const files = [...manifest.entries, ...databases.flatMap((d) => [d.entry, ...d.sideEntries])].filter((e) => e.kind === "file" && e.sha256);
  const absent = await core.store.absentObjects(files.map((e) => e.sha256 as string));
  const missing: DamagedObject[] = files
    .filter((e) => absent.has(e.sha256 as string))
    .map((e) => ({ path: e.path, sha256: e.sha256 as string, state: "missing" }));
  if (missing.length > 0) await recordDamageFound(core, row.id, missing);
  const recorded = row.verifyState === "corrupt" || row.verifyState === "missing" ? storedProblems(row.verifyProblems) : [];
  const damaged = damagedFiles(recorded, missing);
  if (damaged.length > 0 && !options.intactOnly) throw refusal(damaged);
  // Objects are named by content: a damaged object is damaged under every name that holds it.
  const damagedObjects = new Map(damaged.map((p) => [p.sha256, p.state]));
  const intact = (entry: ManifestEntry) => !(entry.kind === "file" && entry.sha256 && damagedObjects.has(entry.sha256));
  const folder = `${row.component.name}-${row.id}`;
  const recordDamage = (problems: DamagedObject[]) => recordDamageFound(core, row.id, problems);
  const notes: ArchiveNote[] = [];
  const items: ArchiveItem[] = [];
  const sparseLayouts = await readSparseLayouts(core, manifest.entries.filter(intact), recordDamage);
  for (const entry of manifest.entries) {
    if (!intact(entry)) {
      notes.push({ path: entry.path, archivedAs: null, reason: `its stored content is ${damagedObjects.get(entry.sha256 as string)}: left out of this archive of the intact files only` });
      continue;
    }
    // No content was captured for it: leave it out, and say so.
    if (entry.unstable) notes.push({ path: entry.path, archivedAs: null, reason: "it kept changing while the checkpoint was taken, so the checkpoint holds no content for it" });
    else if (format === "zip" && entry.sparse && entry.size > ZIP_SPARSE_EXPAND_LIMIT) {
      notes.push({
        path: entry.path,
        archivedAs: null,
        reason: `it is a sparse file of ${entry.size} bytes (${entry.sparse.dataBytes} bytes of data, the rest holes), which a zip could only hold written out in full; export as tar.gz, which keeps its holes`,
      });
    } else items.push({ entry, mtimeMs: entry.mtimeMs, sparse: entry.sparse ? sparseLayouts.get(entry.sha256 as string) : undefined });
  }
  if (databases.length > 0) {
    const described = databases.map(({ snapshot, entry, sideEntries }) => ({
      ...snapshot,
      file: entry.path,
      ...(snapshot.sideFiles ? { sideFiles: snapshot.sideFiles.map((f, i) => ({ ...f, file: sideEntries[i]?.path })) } : {}),
    }));
    const data = Buffer.from(JSON.stringify(described, null, 2) + "\n");
    items.push({ entry: generatedFile(`${DATABASES_FOLDER}/databases.json`, data, 0o644), mtimeMs: row.createdAt.getTime(), data });
    for (const { entry, sideEntries } of databases) {
      for (const one of [entry, ...sideEntries]) {
        if (intact(one)) items.push({ entry: one, mtimeMs: row.createdAt.getTime() });
        else notes.push({ path: one.path, archivedAs: null, reason: `this database snapshot's stored content is ${damagedObjects.get(one.sha256 as string)}: left out of this archive of the intact files only` });
      }
    }
  }
  const named = format === "zip" ? zipNames(items.map((i) => i.entry.path)) : null;
  if (named) {
    notes.push(...named.renamed);
    items.forEach((item, i) => (item.name = named.names[i]));
    for (const item of items) {
      const target = item.entry.linkTarget;
      if (item.entry.kind === "symlink" && target !== undefined && zipEscape(target) !== target) {
        notes.push({ path: item.entry.path, archivedAs: item.name ?? item.entry.path, reason: `its link target is stored as ${zipEscape(target)} (a zip cannot hold it as it is)` });
      }
    }
  }
  if (format === "zip") {
    for (const item of items) {
      if (item.entry.hardlinkTo !== undefined) notes.push({ path: item.entry.path, archivedAs: item.name ?? item.entry.path, reason: `stored as a copy of ${item.entry.hardlinkTo}: it is another name of that file (a hard link), which a zip cannot hold` });
    }
  }
  if (notes.length > 0) {
    // The notes travel with the archive: whoever unpacks it can map each name back, and sees what is not there.
    const data = Buffer.from(JSON.stringify(notes.map((n) => ({ ...n, bytes: nameBytes(n.path).toString("hex") })), null, 2) + "\n");
    const name = named ? named.reserve(NOTES_FILE) : freeName(new Set(items.map((i) => i.entry.path)), NOTES_FILE);
    const entry = generatedFile(name, data, 0o644);
    items.push({ entry, mtimeMs: row.createdAt.getTime(), data, name });
  }
  const out = new PassThrough();
  const fail = (error: Error) => {
    if (out.destroyed) return;
    out.destroy(error);
    core.log.error({ event: "checkpoint.archive", checkpointId: row.id, format, error: error.message }, "archive aborted");
  };
  const content = (item: ArchiveItem): Readable => {
    if (item.data) return Readable.from([item.data]);
    const layout = item.sparse;
    // A sparse file's object is its data, then its map: the data is what the archive takes.
    const expected = layout ? { objectBytes: layout.dataBytes + layout.tail.length, emitBytes: layout.dataBytes } : { objectBytes: item.entry.size, emitBytes: item.entry.size };
    const sha256 = item.entry.sha256 as string;
    const source = new VerifiedObjectReader(() => core.store.openContent(sha256), item.entry, recordDamage, expected, () => core.store.verifyObject(sha256));
    source.on("error", fail);
    if (!layout || format === "tar.gz") return source;
    const expanded = Readable.from(withHoles(source, layout), { objectMode: false });
    expanded.on("error", fail);
    return expanded;
  };
  if (format === "zip") writeZip(items, folder, content, out, fail);
  else writeTarGz(items, folder, content, out, fail);
  return {
    checkpointId: row.id,
    component: row.component.name,
    format,
    fileName: damaged.length > 0 ? `${folder}-partial.${format}` : `${folder}.${format}`,
    contentType: CONTENT_TYPES[format],
    entries: manifest.entries.length - notes.filter((n) => n.archivedAs === null).length + databases.reduce((n, d) => n + 1 + d.sideEntries.length, 0),
    bytes: items.reduce((sum, item) => sum + (item.entry.kind === "file" && !item.data ? (format === "tar.gz" && item.sparse ? item.sparse.dataBytes : item.entry.size) : 0), 0),
    notes,
    leftOut: damaged,
    stream: out,
  };
}

/** One entry of the archive: a manifest entry, a database snapshot, or a file made for the archive (`data`). */
interface ArchiveItem {
  entry: ManifestEntry;
  mtimeMs: number;
  data?: Buffer;
  /** Zip only: the entry's name in the archive when it differs from its path. */
  name?: string;
  /** A sparse file: where its data goes (read from its stored representation). */
  sparse?: SparseLayout;
}

const NOTES_FILE = ".safetynet-export-notes.json";

function generatedFile(entryPath: string, data: Buffer, mode: number): ManifestEntry {
  return { path: entryPath, kind: "file", mode, size: data.length, mtimeMs: 0, reason: "primary" };
}

/** tar.gz: every name exactly as bytes (tar-writer.ts), gzip-compressed. */
function writeTarGz(items: ArchiveItem[], folder: string, content: (item: ArchiveItem) => Readable, out: PassThrough, fail: (error: Error) => void): void {
  const prefix = nameBytes(`${folder}/`);
  function* entries(): Generator<TarEntry> {
    for (const item of items) {
      const { entry } = item;
      const name = Buffer.concat([prefix, nameBytes(entry.path)]);
      if (entry.kind === "dir") yield { name, type: "directory", mode: entry.mode, mtimeMs: item.mtimeMs, size: 0 };
      else if (entry.kind === "symlink") yield { name, type: "symlink", mode: entry.mode, mtimeMs: item.mtimeMs, size: 0, linkName: nameBytes(entry.linkTarget ?? "") };
      else if (entry.hardlinkTo !== undefined) yield { name, type: "hardlink", mode: entry.mode, mtimeMs: item.mtimeMs, size: 0, linkName: Buffer.concat([prefix, nameBytes(entry.hardlinkTo)]) };
      else if (item.sparse) {
        const sparse = { realSize: item.sparse.size, regions: item.sparse.extents };
        yield { name, type: "file", mode: entry.mode, mtimeMs: item.mtimeMs, size: item.sparse.dataBytes, content: content(item), sparse };
      } else yield { name, type: "file", mode: entry.mode, mtimeMs: item.mtimeMs, size: entry.size, content: content(item) };
    }
  }
  const tar = Readable.from(tarBlocks(entries()), { objectMode: false });
  const gzip = createGzip({ level: 6 });
  tar.on("error", fail);
  gzip.on("error", fail);
  // Cut on failure before the gzip trailer: a reader must never see a complete-looking archive.
  tar.pipe(gzip).pipe(out, { end: false });
  gzip.on("end", () => {
    if (!out.destroyed) out.end();
  });
}

/** zip (archiver): names escaped where a zip entry cannot hold them (zipNames). */
function writeZip(items: ArchiveItem[], folder: string, content: (item: ArchiveItem) => Readable, out: PassThrough, fail: (error: Error) => void): void {
  const archive: Archiver = new ZipArchive({ zlib: { level: 6 } });
  const stop = (error: Error) => {
    // Cut the output first so the zip's central directory never reaches the reader.
    archive.unpipe(out);
    fail(error);
    archive.abort();
  };
  archive.on("error", stop);
  archive.on("warning", stop);
  archive.pipe(out);
  for (const item of items) {
    const { entry } = item;
    const name = `${folder}/${item.name ?? entry.path}`;
    const date = new Date(item.mtimeMs);
    if (entry.kind === "dir") archive.append(Buffer.alloc(0), { name: `${name}/`, type: "directory", mode: entry.mode, date });
    else if (entry.kind === "symlink") archive.append(Buffer.alloc(0), { name, type: "symlink", linkname: zipEscape(entry.linkTarget ?? ""), mode: entry.mode, date });
    else archive.append(content(item), { name, type: "file", mode: entry.mode, date, stats: { size: entry.size } });
  }
  archive.finalize().catch((error: unknown) => stop(error instanceof Error ? error : new Error(String(error))));
}

const DATABASES_FOLDER = ".safetynet-databases";
const EXTENSION: Record<DatabaseSnapshot["format"], string> = { sqlite: "sqlite", pg_dump: "pgdump", pg_copy: "pgcopy", raw: "raw" };

/** The database snapshots present in the manifest, each as an archive file (a name made safe from its target), a raw one with its journal files. */
function databaseEntries(manifest: Manifest): { snapshot: DatabaseSnapshot; entry: ManifestEntry; sideEntries: ManifestEntry[] }[] {
  return databasesOf(manifest)
    .filter((snapshot) => snapshot.state === "present" && snapshot.sha256)
    .map((snapshot) => {
      const safe = snapshot.target.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120) || "database";
      const file = (name: string, size: number, sha256: string): ManifestEntry => ({ path: `${DATABASES_FOLDER}/${name}`, kind: "file", mode: 0o600, size, mtimeMs: 0, sha256, reason: "primary" });
      const base = `${safe}.${EXTENSION[snapshot.format]}`;
      return { snapshot, entry: file(base, snapshot.size, snapshot.sha256 as string), sideEntries: (snapshot.sideFiles ?? []).map((f) => file(`${base}${f.suffix}`, f.size, f.sha256)) };
    });
}

/**
 * One stored object as a stream, opened only when the archive reaches it (a
 * checkpoint of ten thousand files never holds ten thousand descriptors). The
 * last chunk is held back until the whole object hashed to its name and had the
 * manifest's size; otherwise the stream fails with an IntegrityError.
 */
class VerifiedObjectReader extends Readable {
  private content: ObjectContent | null = null;
  private chunks: AsyncIterator<Buffer> | null = null;
  private held: Buffer | null = null;
  private readonly hash = createHash("sha256");
  private bytesRead = 0;
  private reading = false;

  constructor(
    /** Opens the object's content through the store (which inflates a compressed one). */
    private readonly open: () => Promise<ObjectContent>,
    private readonly entry: ManifestEntry,
    /** Records the damage before the stream fails, so whoever sees the failure can already read it on the checkpoint. */
    private readonly recordDamage: (problems: DamagedObject[]) => Promise<void>,
    /** The object's size, and how many of its first bytes the stream gives (all of them, but for a sparse file's representation). */
    private readonly expected: { objectBytes: number; emitBytes: number },
    /**
     * The store's own check of the object, once damage was read: with a bucket, what was read is a cached
     * copy, and the check replaces a damaged one with the bucket's copy and answers for that.
     */
    private readonly recheck: () => Promise<ObjectState>,
  ) {
    super({ highWaterMark: CHUNK });
  }

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    this.readUntilPushed()
      .catch((error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.reading = false;
      });
  }

  private async damaged(state: "corrupt" | "missing", why: string): Promise<IntegrityError> {
    if ((await this.recheck().catch(() => state)) === "ok") {
      return new IntegrityError(
        `archive aborted: the cached copy of ${this.entry.path}'s content was damaged (${why}) and has been replaced by the bucket's intact copy; nothing is wrong with the checkpoint: export it again`,
        { problems: [], cachedCopyReplaced: true },
      );
    }
    const problems: DamagedObject[] = [{ path: this.entry.path, sha256: this.entry.sha256 as string, state }];
    await this.recordDamage(problems);
    return new IntegrityError(`archive aborted: the stored content of ${this.entry.path} is ${state} (${why}); no complete archive was produced`, { problems });
  }

  /** The store's IntegrityError (the object is not there, or its stored form cannot be read back) as this file's damage. */
  private async storeDamage(error: unknown): Promise<unknown> {
    if (!(error instanceof IntegrityError)) return error;
    const state = (error.details as { state?: string } | undefined)?.state === "missing" ? "missing" : "corrupt";
    return this.damaged(state, state === "missing" ? `object ${this.entry.sha256} is not in the store` : "its stored form cannot be read back");
  }

  private async readUntilPushed(): Promise<void> {
    if (!this.chunks) {
      try {
        this.content = await this.open();
      } catch (error) {
        throw await this.storeDamage(error);
      }
      this.chunks = this.content.chunks[Symbol.asyncIterator]();
    }
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.chunks.next();
      } catch (error) {
        throw await this.storeDamage(error);
      }
      if (next.done) {
        await this.closeFile();
        const actual = this.hash.digest("hex");
        if (this.bytesRead !== this.expected.objectBytes) throw await this.damaged("corrupt", `${this.bytesRead} bytes stored, the manifest says ${this.expected.objectBytes}`);
        if (actual !== this.entry.sha256) throw await this.damaged("corrupt", `its content hashes to ${actual}, not ${this.entry.sha256}`);
        if (this.held) this.push(this.held);
        this.push(null);
        return;
      }
      // Each chunk is a buffer of its own: it may be held back and pushed later.
      const read = next.value;
      const bytesRead = read.length;
      this.hash.update(read);
      const start = this.bytesRead;
      this.bytesRead += bytesRead;
      if (this.bytesRead > this.expected.objectBytes) throw await this.damaged("corrupt", `more than the ${this.expected.objectBytes} bytes the manifest says`);
      // Only what lies before emitBytes is given on (a sparse representation's map stays behind).
      const chunk = read.subarray(0, Math.max(0, Math.min(bytesRead, this.expected.emitBytes - start)));
      if (chunk.length === 0) continue;
      const previous = this.held;
      this.held = chunk;
      if (previous) {
        this.push(previous);
        return;
      }
    }
  }

  private async closeFile(): Promise<void> {
    const content = this.content;
    this.content = null;
    await content?.close();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile().then(
      () => callback(error),
      () => callback(error),
    );
  }
}

/**
 * The layouts of the sparse files among `entries`, by object, read before the
 * first byte of the archive: a representation that is not one is damage,
 * recorded and refused like a missing object.
 */
async function readSparseLayouts(core: Core, entries: readonly ManifestEntry[], recordDamage: (problems: DamagedObject[]) => Promise<void>): Promise<Map<string, SparseLayout>> {
  const layouts = new Map<string, SparseLayout>();
  const damaged: DamagedObject[] = [];
  for (const entry of entries) {
    if (!entry.sparse || entry.unstable || !entry.sha256 || layouts.has(entry.sha256)) continue;
    const sha256 = entry.sha256;
    try {
      // The map is read at offsets: from the object's own file, or a compressed one inflated to a temp file.
      const layout = await core.store.withObjectFile(sha256, async (file) => {
        let handle: fsp.FileHandle | undefined;
        try {
          handle = await fsp.open(file, "r");
          const { size } = await handle.stat();
          return readSparseLayout(handle.fd, size);
        } catch (error) {
          if (error instanceof SparseFormatError || (error as NodeJS.ErrnoException).code === "ENOENT") throw error;
          throw describeFsError(error, file);
        } finally {
          await handle?.close();
        }
      });
      layouts.set(sha256, layout);
    } catch (error) {
      if (error instanceof SparseFormatError) damaged.push({ path: entry.path, sha256, state: "corrupt" });
      else if ((error as NodeJS.ErrnoException).code === "ENOENT") damaged.push({ path: entry.path, sha256, state: "missing" });
      else if (error instanceof IntegrityError) damaged.push({ path: entry.path, sha256, state: (error.details as { state?: string } | undefined)?.state === "missing" ? "missing" : "corrupt" });
      else throw error;
    }

  }
  if (damaged.length > 0) {
    await recordDamage(damaged);
    throw damageError(damaged, "refused before the first byte");
  }
  return layouts;
}

/** A sparse file's logical bytes: its data (from `data`, in order) with zeros written where its holes are. */
async function* withHoles(data: AsyncIterable<Buffer>, layout: SparseLayout): AsyncGenerator<Buffer> {
  const zeros = Buffer.alloc(CHUNK);
  function* hole(length: number): Generator<Buffer> {
    for (let left = length; left > 0; left -= CHUNK) yield left >= CHUNK ? zeros : zeros.subarray(0, left);
  }
  let position = 0;
  let pending: Buffer = Buffer.alloc(0);
  const source = data[Symbol.asyncIterator]();
  for (const extent of layout.extents) {
    yield* hole(extent.offset - position);
    for (let left = extent.length; left > 0; ) {
      if (pending.length === 0) {
        const next = await source.next();
        if (next.done) throw new Error(`the stored data ended before the map said it would (${extent.offset + extent.length - left} of ${layout.size} bytes)`);
        pending = next.value;
      }
      const piece = pending.subarray(0, Math.min(left, pending.length));
      pending = pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
    position = extent.offset + extent.length;
  }
  // Read to the end: the source checks the object's hash only there.
  for (let next = await source.next(); !next.done; next = await source.next()) {
    if (next.value.length > 0) throw new Error("the stored data goes on past what the map says");
  }
  yield* hole(layout.size - position);
}
