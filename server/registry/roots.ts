/**
 * Component roots are pinned to their real path. A root is registered as its
 * real path (no symlink anywhere in it), never inside or over another
 * component's root or the data directory; and every operation, reads included,
 * first checks that the root still resolves to exactly that path. A root swapped
 * for a symlink (to another component, or anywhere else) is refused, naming both
 * paths, before anything is read or written through it.
 */
import { lstatSync, realpathSync } from "node:fs";
import type { Core } from "../core";
import { describeFsError, InvalidInputError } from "../errors";
import { assertRootAllowed, isInside } from "../scan/paths";

export interface RootedComponent {
  name: string;
  root: string;
}

/** Refuses an operation on `component` unless its root still is the real directory it was registered as. */
export function assertRootIntact(component: RootedComponent): void {
  let real: string;
  try {
    real = realpathSync(component.root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InvalidInputError(`component "${component.name}": its root ${component.root} no longer exists`, { component: component.name, root: component.root });
    }
    throw describeFsError(error, component.root);
  }
  if (real !== component.root || !lstatSync(real).isDirectory()) {
    throw new InvalidInputError(
      `component "${component.name}": its root ${component.root} now resolves to ${real} (it was replaced by a symlink or moved); refusing to read or write through it. Put the folder back, or register the component again on its real path`,
      { component: component.name, root: component.root, realRoot: real },
    );
  }
}

/** What every operation on a component checks first: its root is intact and still inside the allowed roots. */
export function assertComponentRootUsable(core: Core, component: RootedComponent): void {
  assertRootIntact(component);
  assertRootAllowed(component.root, core.config.allowedRoots);
}

/**
 * Every operation on a component: its root is intact, and lies neither inside nor
 * over the data directory or another component's root (an older version did not
 * refuse such registrations; they are refused now, naming both).
 */
export async function assertRootUsableNow(core: Core, component: RootedComponent): Promise<void> {
  assertRootIntact(component);
  await assertRootDisjoint(core, component.name, component.root, "its root");
}

/** Refuses a root (a real path) that lies inside or over the data directory or another component's root. */
export async function assertRootDisjoint(core: Core, name: string, root: string, what = "root"): Promise<void> {
  const dataDir = core.config.dataDir;
  if (isInside(dataDir, root)) {
    throw new InvalidInputError(`${what} ${root} lies inside the Safety Net data directory ${dataDir}`, { field: "root", root, dataDir });
  }
  if (isInside(root, dataDir)) {
    throw new InvalidInputError(`${what} ${root} contains the Safety Net data directory ${dataDir}; register a folder that does not hold it, or move the data directory (SAFETYNET_DATA_DIR)`, {
      field: "root",
      root,
      dataDir,
    });
  }
  const others = await core.db.component.findMany({ where: { name: { not: name } }, select: { name: true, root: true } });
  for (const other of others) {
    if (isInside(other.root, root) || isInside(root, other.root)) {
      const how = other.root === root ? "is the root of" : isInside(other.root, root) ? "lies inside the root of" : "contains the root of";
      throw new InvalidInputError(`${what === "root" ? "" : `component "${name}": `}${what} ${root} ${how} component "${other.name}" (${other.root}); component roots may not overlap`, {
        field: "root",
        root,
        component: other.name,
        otherRoot: other.root,
      });
    }
  }
}
