/**
 * File names are bytes on Linux, not text: `mkdir $'dir\xff'` is a valid folder
 * whose name is not UTF-8. Safety Net carries every name through its code as a
 * JavaScript string in which each byte that is not part of valid UTF-8 is the
 * lone surrogate U+DC00 + byte (U+DC80..U+DCFF, the "surrogateescape" of
 * Python's os.fsdecode). A valid UTF-8 name is exactly its usual string; any
 * byte string decodes to one string and encodes back to the same bytes.
 *
 * - `decodeName` / `fsPath` convert at the file system boundary (readdir and
 *   readlink results in, every path handed to a syscall out);
 * - JSON (manifests, the API) keeps such strings exactly: JSON.stringify writes a
 *   lone surrogate as a `\udcff` escape and JSON.parse reads it back;
 * - text columns of SQLite and PostgreSQL cannot hold lone surrogates, so
 *   `toStorageText` / `fromStorageText` give them an injective, valid form;
 * - `displayPath` shows such bytes as `\xff` to people.
 */

const REPLACEMENT = "\ufffd";
/** A surrogate code unit somewhere in the string: rare, so one test skips all the work for ordinary names. */
const ANY_SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Is the code unit at `i` an escaped byte (a low surrogate U+DC80..U+DCFF that is not the second half of a pair)? */
export function isEscapedByteAt(s: string, i: number): boolean {
  const unit = s.charCodeAt(i);
  return unit >= 0xdc80 && unit <= 0xdcff && !(i > 0 && isHigh(s.charCodeAt(i - 1)));
}

/** Does `name` hold bytes that are not UTF-8 (escaped as lone surrogates)? */
export function hasEscapedBytes(name: string): boolean {
  if (!ANY_SURROGATE.test(name)) return false;
  for (let i = 0; i < name.length; i++) if (isEscapedByteAt(name, i)) return true;
  return false;
}

/**
 * The reason `name` has no byte form, or undefined when it has one: a lone
 * surrogate that is not an escaped byte (from a client that built the string
 * itself) names nothing on disk.
 */
export function unrepresentableReason(name: string): string | undefined {
  if (!ANY_SURROGATE.test(name)) return undefined;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (isHigh(unit)) {
      if (i + 1 < name.length && isLow(name.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      return `an unpaired surrogate U+${unit.toString(16).toUpperCase()} at position ${i}`;
    }
    if (isLow(unit) && !isEscapedByteAt(name, i)) return `an unpaired surrogate U+${unit.toString(16).toUpperCase()} at position ${i}`;
  }
  return undefined;
}

/** The bytes of a name (valid UTF-8 parts encoded, escaped bytes as themselves). */
export function nameBytes(name: string): Buffer {
  if (!hasEscapedBytes(name)) return Buffer.from(name, "utf8");
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    if (!isEscapedByteAt(name, i)) continue;
    if (i > start) parts.push(Buffer.from(name.slice(start, i), "utf8"));
    parts.push(Buffer.of(name.charCodeAt(i) - 0xdc00));
    start = i + 1;
  }
  if (start < name.length) parts.push(Buffer.from(name.slice(start), "utf8"));
  return Buffer.concat(parts);
}

/**
 * A path as the file system must be given it: the string itself for UTF-8 names
 * (no cost on the common path), its bytes otherwise. Node would encode a lone
 * surrogate as U+FFFD and open a different name.
 */
export function fsPath(p: string): string | Buffer {
  return hasEscapedBytes(p) ? nameBytes(p) : p;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there does not start one. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < bytes.length && (bytes[i + k] as number) >= lo && (bytes[i + k] as number) <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // No overlong forms (E0 A0..), no surrogates (ED 80..9F).
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** A name read from the file system as bytes: its UTF-8 text, with each byte that is not valid UTF-8 escaped. */
export function decodeName(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  // No replacement character: the bytes were valid UTF-8 (the usual case).
  if (!text.includes(REPLACEMENT)) return text;
  let out = "";
  let start = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += bytes.toString("utf8", start, i) + String.fromCharCode(0xdc00 + (bytes[i] as number));
    i++;
    start = i;
  }
  return out + bytes.toString("utf8", start);
}

/** A name for people: escaped bytes shown as `\xHH`. */
export function displayPath(name: string): string {
  if (!hasEscapedBytes(name)) return name;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    out += isEscapedByteAt(name, i) ? `\\x${(name.charCodeAt(i) - 0xdc00).toString(16).padStart(2, "0")}` : name[i];
  }
  return out;
}

/**
 * Text for a record people read (a history row's error and details, a rollback's
 * error): escaped bytes shown as `\xHH` and any other lone surrogate as U+FFFD,
 * so the metadata store (whose JSON and text columns refuse lone surrogates)
 * always takes it. Objects and arrays are converted throughout.
 */
export function recordText(text: string): string {
  return ANY_SURROGATE.test(text) ? displayPath(text).replace(LONE_SURROGATE, "\ufffd") : text;
}

export function recordValue(value: unknown): unknown {
  if (typeof value === "string") return recordText(value);
  if (Array.isArray(value)) return value.map(recordValue);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [recordText(key), recordValue(item)]));
  }
  return value;
}

/**
 * The form a name takes in a database text column: itself when it holds no
 * escaped byte and no U+FFFD (nearly always); otherwise each escaped byte becomes
 * U+FFFD followed by two hex digits and each U+FFFD of the name is doubled, so
 * the mapping stays one-to-one.
 */
export function toStorageText(name: string): string {
  if (!name.includes(REPLACEMENT) && !hasEscapedBytes(name)) return name;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    if (isEscapedByteAt(name, i)) out += REPLACEMENT + (name.charCodeAt(i) - 0xdc00).toString(16).padStart(2, "0");
    else if (name[i] === REPLACEMENT) out += REPLACEMENT + REPLACEMENT;
    else out += name[i];
  }
  return out;
}

/** The inverse of toStorageText. */
export function fromStorageText(text: string): string {
  if (!text.includes(REPLACEMENT)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== REPLACEMENT) {
      out += text[i];
      continue;
    }
    if (text[i + 1] === REPLACEMENT) {
      out += REPLACEMENT;
      i++;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/.test(hex)) {
      out += REPLACEMENT; // not written by toStorageText: keep it as it is
      continue;
    }
    out += String.fromCharCode(0xdc00 + parseInt(hex, 16));
    i += 2;
  }
  return out;
}
