/**
 * The component's files for related-file discovery (`checkpoint create --path`),
 * read from the disk as they are asked for instead of from a walk of the whole
 * component: a path is lstat'ed, a folder listed, each once, with the component's
 * ignore rules. Finding the files that may import a primary is the only search,
 * and it is bounded: a walk outward from the primaries' folders (each primary's
 * folder first, then the rest of its parent's, and so on up to the root) that
 * stops after MAX_IMPORTER_WALK_ENTRIES entries; of the files of the wanted
 * languages it saw, the first MAX_IMPORTER_FILES in reading order are read.
 */
import type { Dirent } from "node:fs";
import { lstatSync } from "node:fs";
import { fsPath } from "../byte-paths";
import { createIgnoreRules, type IgnoreRulesOptions } from "./ignore-rules";
import { orderImporters, type RelatedCandidates } from "./related";
import { readDirents } from "./walk";

/** Entries (files and folders) the importer search looks at, at most. */
export const MAX_IMPORTER_WALK_ENTRIES = 50_000;

function extOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

function parentOf(p: string): string {
  const slash = p.lastIndexOf("/");
  return slash < 0 ? "" : p.slice(0, slash);
}

export function candidatesOnDisk(root: string, options: IgnoreRulesOptions): RelatedCandidates & { walked: () => number } {
  const rootAbs = root.length > 1 && root.endsWith("/") ? root.slice(0, -1) : root;
  const abs = (rel: string) => (rel === "" ? rootAbs : `${rootAbs}/${rel}`);
  const rules = createIgnoreRules(rootAbs, options);
  const listings = new Map<string, Dirent[] | null>();
  const fileNames = new Map<string, Set<string>>();
  const fileVerdicts = new Map<string, boolean>();
  const usable = new Map<string, boolean>();
  let walked = 0;

  /** A real, non-ignored folder reached without symlinks (the root included). */
  const folderUsable = (dir: string): boolean => {
    if (dir === "") return true;
    let verdict = usable.get(dir);
    if (verdict === undefined) {
      verdict = folderUsable(parentOf(dir)) && Boolean(lstatSync(fsPath(abs(dir)), { throwIfNoEntry: false })?.isDirectory()) && !rules.isIgnoredDir(dir);
      usable.set(dir, verdict);
    }
    return verdict;
  };

  /** The entries of a usable folder, listed once; null when there is none. */
  const list = (dir: string): Dirent[] | null => {
    if (listings.has(dir)) return listings.get(dir) ?? null;
    let entries: Dirent[] | null = null;
    if (folderUsable(dir)) {
      try {
        entries = readDirents(abs(dir));
      } catch {
        entries = null;
      }
    }
    listings.set(dir, entries);
    return entries;
  };

  const isFile = (p: string): boolean => {
    let verdict = fileVerdicts.get(p);
    if (verdict === undefined) {
      const dir = parentOf(p);
      const name = p.slice(dir === "" ? 0 : dir.length + 1);
      let names = fileNames.get(dir);
      if (names === undefined) {
        names = new Set((list(dir) ?? []).filter((d) => d.isFile()).map((d) => d.name));
        fileNames.set(dir, names);
      }
      verdict = names.has(name) && !rules.isIgnoredFile(p);
      fileVerdicts.set(p, verdict);
    }
    return verdict;
  };

  return {
    has: isFile,
    filesIn(dir) {
      return (list(dir) ?? []).filter((d) => d.isFile() && isFile(dir === "" ? d.name : `${dir}/${d.name}`)).map((d) => d.name);
    },
    importerPool(wanted, primaries, limit) {
      const seen = new Set<string>();
      const files: string[] = [];
      // Outward from each primary's folder: the folder's subtree, then its parent's, up to the root.
      const starts = new Set<string>();
      for (const primary of primaries) for (let dir = parentOf(primary); ; dir = parentOf(dir)) {
        starts.add(dir);
        if (dir === "") break;
      }
      const order = [...starts].sort((a, b) => b.split("/").length - a.split("/").length || (a < b ? -1 : 1));
      for (const start of order) {
        if (walked >= MAX_IMPORTER_WALK_ENTRIES) break;
        const queue = [start];
        for (let i = 0; i < queue.length && walked < MAX_IMPORTER_WALK_ENTRIES; i++) {
          const dir = queue[i] as string;
          if (seen.has(dir)) continue;
          seen.add(dir);
          for (const d of list(dir) ?? []) {
            if (++walked > MAX_IMPORTER_WALK_ENTRIES) break;
            const rel = dir === "" ? d.name : `${dir}/${d.name}`;
            if (d.isDirectory()) {
              if (!seen.has(rel) && !rules.isIgnoredDir(rel)) queue.push(rel);
            } else if (d.isFile() && wanted(extOf(d.name)) && !rules.isIgnoredFile(rel)) files.push(rel);
          }
        }
      }
      return orderImporters(files, primaries).slice(0, limit);
    },
    walked: () => walked,
  };
}
