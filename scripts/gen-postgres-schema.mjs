#!/usr/bin/env node
// The PostgreSQL variant of the data model. A Prisma schema has one provider, so
// prisma/schema.prisma (SQLite, the default) is the source and
// prisma/postgres/schema.prisma is generated from it; each has its own migrations
// folder, applied by server/db/migrate.ts.
//
//   node scripts/gen-postgres-schema.mjs                      write prisma/postgres/schema.prisma
//   node scripts/gen-postgres-schema.mjs --check              exit 1 when it is not up to date
//   node scripts/gen-postgres-schema.mjs --migration <name> [--from <git ref>]
//       also write prisma/postgres/migrations/<name>/migration.sql: the SQL from the
//       PostgreSQL schema at <git ref> (default: empty) to the current one
//
// Text columns are given the "C" collation in the migrations, so PostgreSQL sorts
// and compares names, ids and paths byte-wise exactly as SQLite does, whatever the
// database's locale.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sqliteSchema = path.join(root, "prisma", "schema.prisma");
const postgresDir = path.join(root, "prisma", "postgres");
const postgresSchema = path.join(postgresDir, "schema.prisma");

const HEADER = `// GENERATED from prisma/schema.prisma by scripts/gen-postgres-schema.mjs: do not edit.
// The PostgreSQL variant of the data model (DATABASE_URL=postgresql://...).
`;

export function postgresVariant(source) {
  const replaced = source
    .replace(/^\/\/ Safety Net data model\..*\n(\/\/.*\n)*/m, "")
    .replace(/output\s*=\s*"\.\.\/server\/generated\/prisma"/, 'output     = "../../server/generated/prisma-postgres"')
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace(/url\s*=\s*"file:\.\/dev\.db"/, 'url      = "postgresql://localhost/safetynet" // the product passes its URL through the driver adapter');
  for (const needle of ["prisma-postgres", 'provider = "postgresql"', "postgresql://localhost"]) {
    if (!replaced.includes(needle)) throw new Error(`prisma/schema.prisma no longer has the shape this script rewrites (${needle} missing)`);
  }
  return HEADER + replaced;
}

/** Post-processes `prisma migrate diff` output for server/db/migrate.ts: no schema creation (the migrator sets the schema), "C" collation on text. */
export function adaptMigration(sql) {
  return sql
    .replace(/^-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/m, "")
    .replace(/^(\s+"[^"]+" TEXT)(?! COLLATE)/gm, '$1 COLLATE "C"');
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main() {
  const expected = postgresVariant(readFileSync(sqliteSchema, "utf8"));
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(postgresSchema, "utf8");
    } catch {
      // missing: not up to date
    }
    if (current !== expected) {
      process.stderr.write("prisma/postgres/schema.prisma is not up to date with prisma/schema.prisma: run `node scripts/gen-postgres-schema.mjs`\n");
      process.exit(1);
    }
    return;
  }
  mkdirSync(postgresDir, { recursive: true });
  writeFileSync(postgresSchema, expected);
  process.stdout.write("wrote prisma/postgres/schema.prisma\n");

  const migration = argValue("--migration");
  if (!migration) return;
  const from = argValue("--from");
  const work = mkdtempSync(path.join(os.tmpdir(), "sn-pg-migration-"));
  try {
    const fromArgs = from ? ["--from-schema-datamodel", path.join(work, "from.prisma")] : ["--from-empty"];
    if (from) writeFileSync(path.join(work, "from.prisma"), execFileSync("git", ["show", `${from}:prisma/postgres/schema.prisma`], { cwd: root }));
    const diff = spawnSync(
      process.execPath,
      [path.join(root, "node_modules", "prisma", "build", "index.js"), "migrate", "diff", "--config", path.join(postgresDir, "prisma.config.ts"), ...fromArgs, "--to-schema-datamodel", postgresSchema, "--script"],
      { cwd: root, encoding: "utf8" },
    );
    if (diff.status !== 0) throw new Error(`prisma migrate diff failed:\n${diff.stderr}`);
    const dir = path.join(postgresDir, "migrations", migration);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "migration.sql"), adaptMigration(diff.stdout));
    process.stdout.write(`wrote prisma/postgres/migrations/${migration}/migration.sql\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
