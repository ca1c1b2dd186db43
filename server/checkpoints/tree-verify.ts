/**
 * Verifying a checkpoint by its trees: every tree object is read from disk and
 * re-hashed (never taken from the cache), every file's object re-hashed, and a
 * damaged tree is reported as its folder's problem without hiding the rest of
 * the checkpoint. With a shared memo (`verify --all`), a subtree that several
 * checkpoints share at the same folder is checked once: its problems are
 * remembered, not its files.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { mapConcurrent } from "../concurrency";
import type { ObjectState } from "../store/object-store";
import { contentBytesOnDisk } from "./manifest";
import type { DamagedObject } from "./integrity-record";
import { readTree, type OpenedManifest } from "./tree-read";
import { entryOfChild, type TreeObject } from "./tree-format";

const VERIFY_CONCURRENCY = 8;

export interface TreeCheckMemo {
  /** Problems found under a subtree, by "<tree sha>:<folder>". */
  subtrees: Map<string, DamagedObject[]>;
  /** Object states, each object hashed once. */
  objects: Map<string, Promise<ObjectState>>;
  /** Bytes of the objects hashed (content on disk), each once. */
  bytes: number;
  /** Tree objects read and re-hashed. */
  trees: Set<string>;
}

export function newTreeCheckMemo(): TreeCheckMemo {
  return { subtrees: new Map(), objects: new Map(), bytes: 0, trees: new Set() };
}

export async function checkTrees(core: Core, manifest: OpenedManifest, memo: TreeCheckMemo = newTreeCheckMemo()): Promise<DamagedObject[]> {
  return checkFolder(core, manifest, manifest.root, "", memo);
}

async function checkFolder(core: Core, manifest: OpenedManifest, sha256: string, folder: string, memo: TreeCheckMemo): Promise<DamagedObject[]> {
  const key = `${sha256}:${folder}`;
  const known = memo.subtrees.get(key);
  if (known) return known;
  let tree: TreeObject;
  try {
    tree = readTree(core.store, sha256, { folder, fresh: true, memory: manifest.memory });
    if (!manifest.memory) for (const object of [sha256, ...(tree.pages ?? [])]) memo.trees.add(object);
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    const object = typeof error.details.sha256 === "string" ? error.details.sha256 : sha256;
    const problems: DamagedObject[] = [{ path: folder === "" ? null : folder, sha256: object, state: error.details.state === "missing" ? "missing" : "corrupt" }];
    memo.subtrees.set(key, problems);
    return problems;
  }
  const base = folder === "" ? "" : `${folder}/`;
  const problems: DamagedObject[] = [];
  const files = tree.children.filter((c) => c.kind === "file" && c.sha256 !== undefined);
  const states = await mapConcurrent(files, VERIFY_CONCURRENCY, (child) => objectState(core, child.sha256 as string, contentBytesOnDisk(entryOfChild(child, "")), memo));
  files.forEach((child, i) => {
    const state = states[i];
    if (state === "corrupt" || state === "missing") problems.push({ path: base + child.name, sha256: child.sha256 as string, state });
  });
  for (const child of tree.children) {
    if (child.kind === "dir") problems.push(...(await checkFolder(core, manifest, child.tree as string, base + child.name, memo)));
  }
  memo.subtrees.set(key, problems);
  return problems;
}

/** An object's state, hashed once per memo. */
export function objectState(core: Core, sha256: string, bytes: number, memo: TreeCheckMemo): Promise<ObjectState> {
  let state = memo.objects.get(sha256);
  if (!state) {
    state = core.store.verifyObject(sha256);
    memo.objects.set(sha256, state);
    memo.bytes += bytes;
  }
  return state;
}
