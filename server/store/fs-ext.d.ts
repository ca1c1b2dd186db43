// The part of fs-ext 2 (a native addon without bundled types) that the store uses.
declare module "fs-ext" {
  /** lseek(2): returns the new offset; throws an ErrnoException (ENXIO past the last data for SEEK_DATA). */
  export function seekSync(fd: number, offset: number, whence: number): number;
}
