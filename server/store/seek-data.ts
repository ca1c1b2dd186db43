/**
 * Where a file's data is: lseek(2) with SEEK_DATA and SEEK_HOLE, which Node does
 * not expose, through the fs-ext native addon. Loaded on first use; where it
 * cannot be loaded, or the platform has no such whence values, there is no hole
 * map and every file is read whole (as a dense file).
 */

/** A run of bytes in a file: [offset, offset + length). */
export interface DataRange {
  offset: number;
  length: number;
}

const SEEK_SET = 0;

type Seek = (fd: number, offset: number, whence: number) => number;

/** The whence values differ between systems (Linux: DATA 3, HOLE 4; macOS and FreeBSD: HOLE 3, DATA 4). */
const WHENCE: Partial<Record<NodeJS.Platform, { data: number; hole: number }>> = {
  linux: { data: 3, hole: 4 },
  android: { data: 3, hole: 4 },
  darwin: { data: 4, hole: 3 },
  freebsd: { data: 4, hole: 3 },
};

let loading: Promise<Seek | null> | undefined;

function loadSeek(): Promise<Seek | null> {
  loading ??= (async () => {
    if (!WHENCE[process.platform]) return null;
    try {
      const mod = (await import("fs-ext")) as { seekSync?: Seek; default?: { seekSync?: Seek } };
      return mod.seekSync ?? mod.default?.seekSync ?? null;
    } catch {
      return null;
    }
  })();
  return loading;
}

/** Whether hole maps can be read here. */
export async function holeMapsAvailable(): Promise<boolean> {
  return (await loadSeek()) !== null;
}

/**
 * The data ranges of the open file `fd` of `size` bytes, in order, as the file
 * system reports them (whole blocks); null when this system cannot tell. A file
 * system that does not track holes reports one range covering the whole file.
 * The file position is back at 0 afterwards.
 */
export async function readDataRanges(fd: number, size: number): Promise<DataRange[] | null> {
  const seek = await loadSeek();
  const whence = WHENCE[process.platform];
  if (!seek || !whence) return null;
  const ranges: DataRange[] = [];
  try {
    let position = 0;
    while (position < size) {
      let start: number;
      try {
        start = seek(fd, position, whence.data);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // ENXIO: no data at or after `position` (the rest is a hole).
        if (code === "ENXIO") break;
        // This file system does not know the whence value.
        if (code === "EINVAL" && ranges.length === 0) return null;
        throw error;
      }
      if (start >= size) break;
      let end: number;
      try {
        end = Math.min(seek(fd, start, whence.hole), size);
      } catch (error) {
        // The file shrank between the two calls: the caller's fstat check sees that.
        if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
        end = size;
      }
      if (end <= start) break;
      ranges.push({ offset: start, length: end - start });
      position = end;
    }
  } finally {
    seek(fd, 0, SEEK_SET);
  }
  return ranges;
}
