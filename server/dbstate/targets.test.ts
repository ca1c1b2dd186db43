import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import { databaseFilePaths, parseDbTarget, parseDbTargets } from "./targets";

describe("database targets", () => {
  it("spells each target one canonical way", () => {
    expect(parseDbTarget("sqlite:./data//memory.db")).toEqual({ engine: "sqlite", name: "sqlite:data/memory.db", path: "data/memory.db" });
    expect(parseDbTarget("postgres:APP_DB")).toEqual({ engine: "postgres", name: "postgres:APP_DB?schema=public", urlEnv: "APP_DB", schemas: ["public"], tables: [] });
    expect(parseDbTarget("postgresql:APP_DB?schema=sales,public&schema=audit").name).toBe("postgres:APP_DB?schema=audit,public,sales");
    expect(parseDbTarget("postgres:APP_DB?tables=users,audit.logins,users")).toEqual({
      engine: "postgres",
      name: "postgres:APP_DB?tables=audit.logins,public.users",
      urlEnv: "APP_DB",
      schemas: ["audit", "public"],
      tables: ["audit.logins", "public.users"],
    });
    expect(parseDbTarget("postgres:APP_DB?schema=sales&tables=orders")).toMatchObject({ tables: ["sales.orders"] });
  });

  it.each([
    ["postgres://user:secret@host/db", /never the URL itself/],
    ["postgres:DB_URL@host", /never the URL itself/],
    ["postgres:1BAD", /not an environment variable name/],
    ["postgres:APP?schema=a-b", /"a-b" is not a schema name/],
    ["postgres:APP?tables=a.b.c", /"a\.b\.c" is not a table name/],
    ["postgres:APP?schema=", /"schema" needs a value/],
    ["sqlite:", /must not be empty/],
    ["sqlite:.", /names the component root itself/],
    ["sqlite:a/../../b.db", /must not contain "\.\."/],
    ["redis:CACHE", /expected sqlite:/],
  ])("refuses %s, naming it", (spec, message) => {
    expect(() => parseDbTarget(spec)).toThrow(InvalidInputError);
    expect(() => parseDbTarget(spec)).toThrow(message);
    expect(() => parseDbTarget(spec)).toThrow(`database target "${spec}"`);
  });

  it("refuses a target listed twice (in any spelling) and more than 16", () => {
    expect(() => parseDbTargets(["sqlite:a.db", "sqlite:./a.db"])).toThrow(/"sqlite:a\.db": listed twice/);
    expect(() => parseDbTargets(Array.from({ length: 17 }, (_, i) => `sqlite:${i}.db`))).toThrow(/at most 16/);
  });

  it("gives the files of SQLite targets to the database, not the file scan", () => {
    expect(databaseFilePaths(parseDbTargets(["sqlite:m.db", "postgres:APP"]))).toEqual(["m.db", "m.db-wal", "m.db-shm", "m.db-journal", "m.db-safetynet-tmp"]);
  });
});
