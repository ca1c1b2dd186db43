// The part of archiver 8 (ESM classes, no bundled types) that checkpoint archives use.
declare module "archiver" {
  import { Transform } from "node:stream";

  export interface EntryData {
    name: string;
    type?: "file" | "directory" | "symlink";
    mode?: number;
    date?: Date;
    linkname?: string;
    /** Only `size` is read (tar): with it a stream source is piped, not buffered whole. */
    stats?: { size: number };
  }

  export class Archiver extends Transform {
    append(source: NodeJS.ReadableStream | Buffer, data: EntryData): this;
    finalize(): Promise<void>;
    abort(): this;
    pointer(): number;
  }

  export class TarArchive extends Archiver {
    constructor(options?: { gzip?: boolean; gzipOptions?: { level?: number } });
  }

  export class ZipArchive extends Archiver {
    constructor(options?: { zlib?: { level?: number }; forceZip64?: boolean });
  }
}
