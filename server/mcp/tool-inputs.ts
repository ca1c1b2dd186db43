/**
 * Inputs the MCP tools add to the API's own (server/schemas.ts): cursors for the
 * lists the API returns whole, and how much of each entry to show.
 */
import { z } from "zod";

/** The last key (path, name) shown: the next page starts after it. */
export const keyCursor = z
  .string()
  .min(1)
  .max(4096)
  .refine((c) => !c.includes("\0"), "a cursor may not contain a NUL byte")
  .optional()
  .describe("nextCursor from the previous result");

export const pageLimit = z.number().int().min(1).max(1000).optional().describe("at most this many items (fewer when the result budget is reached)");

export const detail = z.boolean().optional().describe("full entries (sha256, modes, link targets, ...) instead of the compact ones");

/** Fields of a checkpoint entry (besides its path, always shown). */
export const entryFields = ["kind", "mode", "size", "mtimeMs", "sha256", "linkTarget", "unstable", "hardlinkTo", "sparse", "reason"] as const;
export type EntryField = (typeof entryFields)[number];

export const fields = z
  .array(z.enum(entryFields))
  .min(1)
  .max(entryFields.length)
  .optional()
  .describe(`the fields of each entry to show besides path (default kind, size): ${entryFields.join(", ")}`);

export const pathPrefix = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes("\0"), "a prefix may not contain a NUL byte")
  .optional()
  .describe("only paths starting with this text, e.g. src/");
