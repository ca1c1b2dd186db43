/** The component name from a `/components/[name]` URL segment (a malformed escape is passed on as is; the API names the problem). */
export function componentNameOfSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
