/**
 * The seconds to hand utimes for a recorded mtime (milliseconds, as stat gives
 * them). libuv keeps whole microseconds of the value, truncating: a time such as
 * …48.497998 s, which a double holds as …48.4979979999, would come back one
 * microsecond early, and the next checkpoint would see every restored folder and
 * file as touched. The middle of the microsecond is truncated to the microsecond.
 */
export function utimesSeconds(mtimeMs: number): number {
  return (Math.round(mtimeMs * 1000) + 0.5) / 1e6;
}
