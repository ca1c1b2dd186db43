/** Whether content is shown as text: git's rule, a NUL byte in its first 8000 bytes makes it binary. */
export function looksBinary(buffer: Buffer): boolean {
  return buffer.subarray(0, 8000).includes(0);
}
