/**
 * Process-level settings read once from the environment: where the data lives,
 * which workspace roots components may live in, and where the package itself is
 * (for the committed migrations).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface SafetyNetConfig {
  /** Absolute path of the data directory (database, object store, tokens, journals). */
  dataDir: string;
  /** Absolute, resolved workspace roots a component root must lie within. */
  allowedRoots: string[];
}

export function loadConfig(overrides: { dataDir?: string; cwd?: string } = {}): SafetyNetConfig {
  const cwd = overrides.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, overrides.dataDir ?? process.env.SAFETYNET_DATA_DIR ?? ".safetynet");
  const rootsEnv = process.env.SAFETYNET_ALLOWED_ROOTS;
  const allowedRoots = (rootsEnv ? rootsEnv.split(path.delimiter) : [cwd]).filter(Boolean).map((root) => path.resolve(cwd, root));
  return { dataDir, allowedRoots };
}

let cachedPackageRoot: string | undefined;
/** The folder holding prisma/migrations: found from this module's location (source, bundle or Next build), else the cwd. */
export function packageRoot(): string {
  if (cachedPackageRoot) return cachedPackageRoot;
  const candidates: string[] = [];
  if (process.env.SAFETYNET_PACKAGE_ROOT) candidates.push(process.env.SAFETYNET_PACKAGE_ROOT);
  try {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
      candidates.push(dir);
      dir = path.dirname(dir);
    }
  } catch {
    // import.meta.url is not a file URL inside some bundles; fall through to cwd.
  }
  candidates.push(process.cwd());
  cachedPackageRoot = candidates.find((dir) => existsSync(path.join(dir, "prisma", "migrations"))) ?? process.cwd();
  return cachedPackageRoot;
}
