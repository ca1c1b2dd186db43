/**
 * Keeps a bucket's local cache (the data directory's objects/) under its bound,
 * SAFETYNET_CACHE_MAX_BYTES: least recently used first, down to 90 % of the
 * bound. Never removed: objects not yet uploaded (staged), and the objects a
 * checkpoint is read through (tree objects, root records: `keep` recognises
 * them by their first bytes), which stay so that opening a checkpoint written
 * or read here before costs no download. Everything else comes back from the
 * bucket when a reader needs it.
 */
import fs from "node:fs";
import { closeFdQuietlySync } from "./raw-fd";
import { HEADER_BYTES as COMPRESSED_HEADER_BYTES, inflateHead } from "./object-codec";
import type { StoredForm } from "./materialize";

/** Bytes of content looked at to recognise an object that is kept. */
const HEAD_BYTES = 32;
const TRIM_TO = 0.9;

export interface CachedObjects {
  listObjects(): Iterable<{ sha256: string; size: number }>;
  locate(sha256: string): StoredForm | null;
  deleteObject(sha256: string): boolean;
}

export interface TrimResult {
  objects: number;
  bytes: number;
}

/** Trims the cache to its bound; what was removed. */
export function trimCache(store: CachedObjects, maxBytes: number, staged: ReadonlySet<string>, keep: (head: Buffer) => boolean): TrimResult {
  const listed = [...store.listObjects()];
  let total = listed.reduce((sum, o) => sum + o.size, 0);
  const removed: TrimResult = { objects: 0, bytes: 0 };
  if (total <= maxBytes) return removed;
  const candidates: { sha256: string; size: number; usedMs: number }[] = [];
  for (const object of listed) {
    if (staged.has(object.sha256)) continue;
    const located = store.locate(object.sha256);
    if (!located) continue;
    const stat = fs.statSync(located.path, { throwIfNoEntry: false });
    if (!stat) continue;
    const head = readHead(located);
    if (head === null || keep(head)) continue;
    candidates.push({ ...object, usedMs: Math.max(stat.atimeMs, stat.mtimeMs) });
  }
  candidates.sort((a, b) => a.usedMs - b.usedMs);
  for (const candidate of candidates) {
    if (total <= maxBytes * TRIM_TO) break;
    if (!store.deleteObject(candidate.sha256)) continue;
    total -= candidate.size;
    removed.objects++;
    removed.bytes += candidate.size;
  }
  return removed;
}

/** The first bytes of an object's content (inflated for a compressed one), or null when it cannot be read. */
function readHead(located: StoredForm): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(located.path, fs.constants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.alloc(located.compressed ? COMPRESSED_HEADER_BYTES + 256 : HEAD_BYTES);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    if (!located.compressed) return buffer.subarray(0, n);
    return inflateHead(buffer.subarray(0, n), HEAD_BYTES);
  } catch {
    return null;
  } finally {
    closeFdQuietlySync(fd);
  }
}
