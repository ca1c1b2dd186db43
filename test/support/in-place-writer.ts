/**
 * A process that rewrites a file in place, over and over, the way the torn-read
 * reports did it: version A (every byte 0x41), then B (0x42), then A..., one
 * pwrite of the whole file at offset 0 each time, same size, often within one
 * tick of the file system's clock. A reader that gets anything but all-A or all-B
 * got bytes of different moments.
 */
import { spawn, type ChildProcess } from "node:child_process";

export const VERSION_A = 0x41;
export const VERSION_B = 0x42;

/** Starts the writer on an existing file of `size` bytes; `pauseMs`: at most this long a random pause after each write (0: back to back). */
export function startInPlaceWriter(file: string, size: number, pauseMs: number): ChildProcess {
  const script = `
    const fs = require("node:fs");
    const fd = fs.openSync(process.argv[1], "r+");
    const versions = [Buffer.alloc(${size}, ${VERSION_A}), Buffer.alloc(${size}, ${VERSION_B})];
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let n = 0; ; n++) {
      fs.writeSync(fd, versions[n % 2], 0, ${size}, 0);
      if (${pauseMs} > 0) Atomics.wait(pause, 0, 0, Math.random() * ${pauseMs});
    }`;
  return spawn(process.execPath, ["-e", script, file], { stdio: "ignore" });
}

/** "A" or "B" when `content` is one whole version; otherwise how much of each it mixes. */
export function versionOf(content: Buffer, size: number): string {
  let a = 0;
  let b = 0;
  for (const byte of content) {
    if (byte === VERSION_A) a++;
    else if (byte === VERSION_B) b++;
  }
  if (a === size && content.length === size) return "A";
  if (b === size && content.length === size) return "B";
  return `a mix: ${a} bytes of A, ${b} of B, ${content.length - a - b} others, ${content.length} in all`;
}
