/**
 * Process-level settings read once from the environment: where the data lives,
 * where the metadata is kept (SQLite in the data directory, or PostgreSQL), which
 * workspace roots components may live in, and where the package itself is (for
 * the committed migrations).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidInputError } from "./errors";

export interface SafetyNetConfig {
  /** Absolute path of the data directory (database, object store, tokens, journals). */
  dataDir: string;
  /** Absolute, resolved workspace roots a component root must lie within. */
  allowedRoots: string[];
  /** A postgresql:// URL: the metadata lives in PostgreSQL (shared by several instances). Absent: SQLite in the data directory. */
  databaseUrl?: string;
  /** SAFETYNET_OBJECT_STORE as given: an s3:// URL, `local`, or absent (what the data directory records; server/store/store-location.ts). */
  objectStore?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Where the metadata lives: SAFETYNET_DATABASE_URL (a postgresql:// URL, or `sqlite`
 * for the data directory's own file), else DATABASE_URL when it is a postgresql://
 * URL (any other DATABASE_URL belongs to someone else and is ignored), else SQLite.
 */
export function metadataDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env.SAFETYNET_DATABASE_URL?.trim();
  if (own) {
    if (own === "sqlite") return undefined;
    if (!POSTGRES_URL.test(own)) throw new InvalidInputError("SAFETYNET_DATABASE_URL must be a postgresql:// URL, or `sqlite` for the data directory's own database", { field: "SAFETYNET_DATABASE_URL" });
    return own;
  }
  const shared = env.DATABASE_URL?.trim();
  return shared && POSTGRES_URL.test(shared) ? shared : undefined;
}

export function loadConfig(overrides: { dataDir?: string; cwd?: string; databaseUrl?: string | null } = {}): SafetyNetConfig {
  const cwd = overrides.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, overrides.dataDir ?? process.env.SAFETYNET_DATA_DIR ?? ".safetynet");
  const rootsEnv = process.env.SAFETYNET_ALLOWED_ROOTS;
  const allowedRoots = (rootsEnv ? rootsEnv.split(path.delimiter) : [cwd]).filter(Boolean).map((root) => path.resolve(cwd, root));
  const databaseUrl = overrides.databaseUrl === undefined ? metadataDatabaseUrl() : (overrides.databaseUrl ?? undefined);
  const objectStore = process.env.SAFETYNET_OBJECT_STORE?.trim() || undefined;
  return { dataDir, allowedRoots, ...(databaseUrl ? { databaseUrl } : {}), ...(objectStore ? { objectStore } : {}) };
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
