/**
 * SQL identifiers written into statement text (schema and table names cannot be
 * bound as parameters): always double-quoted, an embedded quote doubled, so a name
 * is read as exactly that name, in PostgreSQL and in SQLite alike.
 */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** "schema.table" → "\"schema\".\"table\"". */
export function quoteQualified(qualified: string): string {
  const dot = qualified.indexOf(".");
  return `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`;
}
