/**
 * An application's PostgreSQL database, the kind an agent's migration changes:
 * created fresh on the test server, with what migrations touch (an enum, serial
 * and identity keys, a generated column, foreign keys, an index, a view, a
 * trigger function) and a second schema whose table references the first. And a
 * checksum of what a database holds (definitions and rows) that does not trust
 * the product: equal checksums mean the same tables, columns and rows.
 */
import pg from "pg";
import { createTestDatabase, withPostgres } from "./postgres";

export interface AppDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export const APP_SCHEMA_SQL = `
  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, mood mood, created timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z');
  CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id int NOT NULL REFERENCES users(id),
    total numeric(10,2) NOT NULL CHECK (total >= 0),
    doubled numeric GENERATED ALWAYS AS (total * 2) STORED
  );
  CREATE INDEX orders_user ON orders (user_id);
  CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
  CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created := '2026-01-02T00:00:00Z'; RETURN NEW; END $$;
  CREATE TRIGGER users_stamp BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION stamp();
  INSERT INTO users (email, mood) SELECT 'user' || g || '@example.com', (CASE WHEN g % 3 = 0 THEN 'sad' ELSE 'happy' END)::mood FROM generate_series(1, 200) g;
  INSERT INTO orders (user_id, total) SELECT (g % 200) + 1, g * 1.5 FROM generate_series(1, 1000) g;
  CREATE SCHEMA audit;
  CREATE TABLE audit.logins (id serial PRIMARY KEY, user_id int REFERENCES public.users(id), at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z');
  INSERT INTO audit.logins (user_id) SELECT (g % 50) + 1 FROM generate_series(1, 100) g;
`;

/** A bad migration: drops a column, deletes rows, adds a table and a column, renames one. */
export const DESTRUCTIVE_MIGRATION_SQL = `
  ALTER TABLE users DROP COLUMN mood;
  DELETE FROM orders WHERE total > 300 OR user_id > 150;
  DELETE FROM audit.logins WHERE user_id > 40;
  DELETE FROM users WHERE id > 150;
  ALTER TABLE orders ADD COLUMN note text DEFAULT 'migrated';
  CREATE TABLE settings (key text PRIMARY KEY, value jsonb);
  INSERT INTO settings VALUES ('theme', '"dark"');
  ALTER TABLE users RENAME COLUMN email TO mail;
  DROP TYPE mood;
`;

export async function createAppDatabase(label = "app"): Promise<AppDatabase> {
  const database = await createTestDatabase(label);
  await withPostgres((client) => client.query(APP_SCHEMA_SQL), database.url);
  return database;
}

export async function runSql(url: string, sql: string): Promise<void> {
  await withPostgres((client) => client.query(sql), url);
}

/**
 * Everything the schemas hold, as one sha256-able string: every table and view
 * with its columns (name, type, nullability, default), its constraints and
 * indexes, and every row (sorted), plus the sequences' positions and the enum types.
 */
export async function databaseContents(url: string, schemas: string[]): Promise<string> {
  return withPostgres(async (client: pg.Client) => {
    const out: unknown[] = [];
    const relations = (
      await client.query<{ name: string; kind: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v', 'S', 'i', 'm') ORDER BY 1`,
        [schemas],
      )
    ).rows;
    for (const relation of relations) {
      if (relation.kind === "S") {
        out.push([relation.name, (await client.query(`SELECT last_value, is_called FROM ${relation.name}`)).rows]);
        continue;
      }
      if (relation.kind === "i") {
        out.push([relation.name, (await client.query("SELECT pg_get_indexdef($1::regclass) AS def", [relation.name])).rows]);
        continue;
      }
      const columns = (
        await client.query(
          `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity, a.attgenerated
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [relation.name],
        )
      ).rows;
      const constraints = (await client.query("SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname", [relation.name])).rows;
      const triggers = (await client.query("SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname", [relation.name])).rows;
      const rows = relation.kind === "v" ? [] : (await client.query(`SELECT t::text AS row FROM ${relation.name} t ORDER BY 1`)).rows.map((r: { row: string }) => r.row);
      out.push([relation.name, relation.kind, columns, constraints, triggers, rows]);
    }
    out.push((await client.query(
      `SELECT format('%I.%I', n.nspname, t.typname) AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = ANY($1::text[]) GROUP BY 1 ORDER BY 1`,
      [schemas],
    )).rows);
    return JSON.stringify(out);
  }, url);
}
