/**
 * Entry names for zip exports. A zip entry name is text with `/` as its only
 * separator: a name that is not UTF-8, or that holds a backslash (a separator to
 * zip readers), cannot be stored as it is. Such names are escaped and listed, and
 * no two entries ever share a name.
 */
import { hasEscapedBytes, isEscapedByteAt } from "../byte-paths";

/** An entry the archive could not hold as it is: the name it holds instead, or null when it is left out, and why. */
export interface ArchiveNote {
  path: string;
  archivedAs: string | null;
  reason: string;
}

/** A byte that is not UTF-8, or a backslash (a path separator to zip readers): written as %XX in a zip. */
export function zipEscape(name: string): string {
  if (!name.includes("\\") && !hasEscapedBytes(name)) return name;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    if (isEscapedByteAt(name, i)) out += `%${(name.charCodeAt(i) - 0xdc00).toString(16).toUpperCase()}`;
    else out += name[i] === "\\" ? "%5C" : name[i];
  }
  return out;
}

/** `candidate`, or it with `.~N` added, whichever `taken` does not hold yet (which then holds it). */
export function freeName(taken: Set<string>, candidate: string): string {
  let name = candidate;
  for (let n = 1; taken.has(name); n++) name = `${candidate}.~${n}`;
  taken.add(name);
  return name;
}

/**
 * Entry names for a zip: each path as it is when a zip can hold it; otherwise
 * escaped (zipEscape), with a numbered suffix when that would meet another
 * entry's name. Never two entries with one name.
 */
export function zipNames(paths: readonly string[]): { names: (string | undefined)[]; renamed: ArchiveNote[]; reserve: (name: string) => string } {
  const taken = new Set(paths.filter((p) => zipEscape(p) === p));
  const unique = (candidate: string) => freeName(taken, candidate);
  const renamed: ArchiveNote[] = [];
  const names = paths.map((p) => {
    const escaped = zipEscape(p);
    if (escaped === p) return undefined;
    const archivedAs = unique(escaped);
    const reason = hasEscapedBytes(p) ? "the name is not UTF-8, which a zip entry cannot hold" : "a backslash is a path separator to zip readers";
    renamed.push({ path: p, archivedAs, reason });
    return archivedAs;
  });
  return { names, renamed, reserve: unique };
}
