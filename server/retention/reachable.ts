/**
 * What a live checkpoint keeps in the store: its manifest (root record), every
 * tree object below it, the file contents those trees name and its database
 * snapshots. Marking walks the trees and stops at a tree already marked, so
 * each reachable folder is visited once however many checkpoints share it.
 *
 * What was read is remembered for the run (tree objects never change), so a
 * dry run followed by the real sweep reads each object once. A corrupt object
 * that still parses is used as is: it keeps more, never less.
 */
import { IntegrityError } from "../errors";
import { manifestLinks, treeLinks, type Links } from "../checkpoints/tree-links";
import type { ObjectStore } from "../store/object-store";

type Read = Links | { error: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ManifestReferences {
  private readonly manifests = new Map<string, Read>();
  private readonly trees = new Map<string, Read>();

  constructor(private readonly store: ObjectStore) {}

  /** Adds every object the checkpoint with manifest `manifestSha` keeps to `referenced`; the reason it cannot, or null. */
  mark(manifestSha: string, referenced: Set<string>): string | null {
    referenced.add(manifestSha);
    const manifest = this.read(this.manifests, manifestSha, (bytes) => manifestLinks(bytes, manifestSha));
    if ("error" in manifest) return manifest.error;
    for (const blob of manifest.blobs) referenced.add(blob);
    const pending = manifest.trees.filter((tree) => !referenced.has(tree));
    while (pending.length > 0) {
      const sha = pending.pop() as string;
      if (referenced.has(sha)) continue;
      referenced.add(sha);
      const tree = this.read(this.trees, sha, (bytes) => treeLinks(bytes, sha));
      if ("error" in tree) return tree.error;
      for (const blob of tree.blobs) referenced.add(blob);
      for (const sub of tree.trees) if (!referenced.has(sub)) pending.push(sub);
    }
    return null;
  }

  private read(memo: Map<string, Read>, sha256: string, parse: (bytes: Buffer) => Links): Read {
    let found = memo.get(sha256);
    if (!found) {
      found = this.load(sha256, parse);
      memo.set(sha256, found);
    }
    return found;
  }

  private load(sha256: string, parse: (bytes: Buffer) => Links): Read {
    try {
      return parse(this.store.readBuffer(sha256, { verify: true }));
    } catch (error) {
      if (!(error instanceof IntegrityError) || error.details.state !== "corrupt") return { error: messageOf(error) };
      try {
        return parse(this.store.readBuffer(sha256));
      } catch (second) {
        return { error: messageOf(second) };
      }
    }
  }
}
