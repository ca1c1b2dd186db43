/**
 * What one stored object of a checkpoint names: a root record its root tree and
 * database snapshots, a flat manifest (earlier releases) its file contents, a
 * folder's tree its subfolders' trees, its pages and its files' contents. The
 * one reading of links that retention marking and fetching trees from a bucket share.
 */
import { decodeManifest, referencedObjects } from "./manifest";
import { decodeTree } from "./tree-format";
import { parseRootRecord } from "./tree-read";
import { snapshotObjects } from "../dbstate/snapshot-types";

export interface Links {
  /** Objects named directly: file contents, database snapshots. */
  blobs: string[];
  /** Tree objects to walk (a root record's root tree, a folder's subfolders and pages). */
  trees: string[];
}

export function manifestLinks(bytes: Buffer, sha256: string): Links {
  const record = parseRootRecord(bytes, sha256);
  if (record) return { blobs: record.databases.flatMap((d) => snapshotObjects(d).map((o) => o.sha256)), trees: [record.root] };
  return { blobs: referencedObjects(decodeManifest(bytes, sha256)), trees: [] };
}

export function treeLinks(bytes: Buffer, sha256: string): Links {
  const tree = decodeTree(bytes, sha256);
  // A paged folder's index links its pages, each read as a tree object of its own.
  const links: Links = { blobs: [], trees: [...(tree.pages ?? [])] };
  for (const child of tree.children) {
    if (child.kind === "dir") links.trees.push(child.tree as string);
    else if (child.kind === "file" && child.sha256 !== undefined) links.blobs.push(child.sha256);
  }
  return links;
}
