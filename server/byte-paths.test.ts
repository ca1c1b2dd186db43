import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeName, displayPath, fromStorageText, fsPath, hasEscapedBytes, nameBytes, recordText, recordValue, toStorageText, unrepresentableReason } from "./byte-paths";

describe("names as bytes", () => {
  it("decodes any byte string to a string that encodes back to exactly those bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
        const bytes = Buffer.from(raw);
        const name = decodeName(bytes);
        expect(nameBytes(name).equals(bytes)).toBe(true);
        expect(unrepresentableReason(name)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves valid UTF-8 exactly as Node decodes it, with nothing escaped", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
        const bytes = Buffer.from(text, "utf8");
        expect(decodeName(bytes)).toBe(text);
        expect(hasEscapedBytes(text)).toBe(false);
        expect(fsPath(text)).toBe(text);
      }),
    );
  });

  it("escapes each invalid byte on its own, and gives the file system the bytes", () => {
    const name = decodeName(Buffer.from([0x64, 0x69, 0x72, 0xff]));
    expect(name).toBe("dir\udcff");
    expect(fsPath(`/root/${name}/x`)).toEqual(Buffer.concat([Buffer.from("/root/dir"), Buffer.of(0xff), Buffer.from("/x")]));
    expect(displayPath(name)).toBe("dir\\xff");
    // An encoded surrogate (CESU-8) and an overlong slash are not UTF-8: three and two bytes kept.
    expect(nameBytes(decodeName(Buffer.from([0xed, 0xb2, 0x80])))).toEqual(Buffer.from([0xed, 0xb2, 0x80]));
    expect(decodeName(Buffer.from([0xc0, 0xaf]))).toBe("\udcc0\udcaf");
  });

  it("tells a real pair's second half from an escaped byte", () => {
    const skull = "\u{1f480}"; // its low half is U+DC80
    expect(hasEscapedBytes(skull)).toBe(false);
    expect(nameBytes(skull)).toEqual(Buffer.from(skull, "utf8"));
    expect(displayPath(`${skull}\udc80`)).toBe(`${skull}\\x80`);
  });

  it("refuses strings that name no bytes: lone high surrogates, low ones below U+DC80", () => {
    expect(unrepresentableReason("a\ud800b")).toMatch(/unpaired surrogate U\+D800 at position 1/);
    expect(unrepresentableReason("a\udc10")).toMatch(/U\+DC10/);
    expect(unrepresentableReason("ok \u{1f600} \udcff")).toBeUndefined();
  });

  it("stores names in text columns one-to-one, and ordinary names as they are", () => {
    expect(toStorageText("src/a.ts")).toBe("src/a.ts");
    const tricky = ["a\udcff", "a\ufffdff", "a\ufffd", "a\ufffd\ufffd", "\ufffd\udc80", "a\udcfe"];
    const stored = tricky.map(toStorageText);
    expect(new Set(stored).size).toBe(tricky.length);
    for (const s of stored) expect(unrepresentableReason(s)).toBeUndefined();
    expect(stored.map(fromStorageText)).toEqual(tricky);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (raw) => {
        const name = decodeName(Buffer.from(raw));
        expect(fromStorageText(toStorageText(name))).toBe(name);
      }),
    );
  });

  it("turns text naming such a path into well-formed text for a history record, throughout a details object", () => {
    expect(recordText("in the way: a\udcfe/inner.log")).toBe("in the way: a\\xfe/inner.log");
    expect(recordText("a lone \ud800 from a client, \u{1f600} kept")).toBe("a lone \ufffd from a client, \u{1f600} kept");
    expect(recordValue({ obstacles: [{ path: "a\udcfe", inTheWay: ["a\udcfe/x"] }], count: 1, none: null })).toEqual({ obstacles: [{ path: "a\\xfe", inTheWay: ["a\\xfe/x"] }], count: 1, none: null });
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        // Well-formed: encodes to UTF-8 and back unchanged.
        const recorded = recordText(text);
        expect(Buffer.from(recorded, "utf8").toString("utf8")).toBe(recorded);
      }),
    );
  });
});
