import { describe, expect, it } from "vitest";
import { loginPathFor, safeReturnPath } from "./return-path";

describe("the page to return to after sign-in", () => {
  it("follows a path on this site, with its query", () => {
    expect(safeReturnPath("/components/web?day=2026-03-01&q=T-7")).toBe("/components/web?day=2026-03-01&q=T-7");
    expect(safeReturnPath("/checkpoints/cp_01abc")).toBe("/checkpoints/cp_01abc");
  });

  it("never leaves the site or loops back to /login (an open redirect would send a fresh session's browser anywhere)", () => {
    for (const next of ["https://evil.example/", "//evil.example", "/\\evil.example", "evil", "/login", "/login?next=/x", "/api/trpc/x", "/a\nb", "", null, undefined, `/${"x".repeat(3000)}`]) {
      expect(safeReturnPath(next)).toBe("/");
    }
  });

  it("builds the sign-in link that comes back", () => {
    expect(loginPathFor("/history?kind=rollback", "expired")).toBe("/login?next=%2Fhistory%3Fkind%3Drollback&reason=expired");
    expect(loginPathFor("/")).toBe("/login");
    expect(loginPathFor("//evil.example")).toBe("/login");
  });
});
