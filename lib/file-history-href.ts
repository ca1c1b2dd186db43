/**
 * The address of a path's history page: /components/<name>/files?path=<path>. A
 * query parameter carries any path (spaces, unicode, "#", "?", "%"); a name with
 * bytes that are not UTF-8 (escaped as lone surrogates, server/byte-paths.ts) has
 * no URI encoding, so it travels as JSON text in `pathJson` instead.
 */
export function fileHistoryHref(component: string, path: string): string {
  const base = `/components/${encodeURIComponent(component)}/files`;
  try {
    return `${base}?path=${encodeURIComponent(path)}`;
  } catch {
    return `${base}?pathJson=${encodeURIComponent(JSON.stringify(path))}`;
  }
}

/** The path a history page's query names, or null when it names none. */
export function pathOfQuery(query: { path?: string | string[]; pathJson?: string | string[] }): string | null {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const json = first(query.pathJson);
  if (json !== undefined) {
    try {
      const parsed: unknown = JSON.parse(json);
      return typeof parsed === "string" && parsed !== "" ? parsed : null;
    } catch {
      return null;
    }
  }
  const path = first(query.path);
  return path ? path : null;
}
