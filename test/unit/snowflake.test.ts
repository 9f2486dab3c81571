import { Snowflake } from "@switchyard/core";
import { describe, expect, it } from "vitest";

/** The SQL the ingest flow sends to Snowflake, and how Snowflake's errors are read. */

describe("Snowflake.validateIdentifier", () => {
  it.each(["ORDERS_EXT", "orders", "_raw", "A$1", "X".repeat(255)])("accepts %s", (part) => {
    // Act
    const validated = Snowflake.validateIdentifier(part);
    // Assess
    expect(validated).toBe(part);
  });

  it.each([
    { name: "empty", part: "" },
    { name: "a leading digit", part: "1ORDERS" },
    { name: "a dash", part: "ORDERS-EXT" },
    { name: "a space", part: "ORDERS EXT" },
    { name: "a quote", part: '"ORDERS"' },
    { name: "a statement separator", part: "C; DROP TABLE x" },
    { name: "non-ASCII", part: "COMMANDÉS" },
    { name: "256 characters", part: "X".repeat(256) },
  ])("refuses $name, naming the identifier and the fix", ({ part }) => {
    // Act
    const act = () => Snowflake.validateIdentifier(part);
    // Assess
    expect(act).toThrow(/not an unquoted Snowflake identifier\. Fix: /);
    expect(act).toThrow(`'${part.slice(0, 200)}`);
  });
});

describe("Snowflake.qualifiedTable", () => {
  it.each([
    { table: "ANALYTICS.RAW.ORDERS_EXT", expected: "ANALYTICS.RAW.ORDERS_EXT" },
    { table: "analytics.raw.orders_ext", expected: "ANALYTICS.RAW.ORDERS_EXT" },
    { table: "_a.b$.c1", expected: "_A.B$.C1" },
  ])("$table → $expected", ({ table, expected }) => {
    // Act
    const qualified = Snowflake.qualifiedTable(table);
    // Assess
    expect(qualified).toBe(expected);
  });

  it.each([
    { table: "RAW.ORDERS", error: /not a fully qualified table name\. Fix: /u },
    { table: "A.B.C.D", error: /not a fully qualified table name/ },
    { table: "A..C", error: /'' is not an unquoted Snowflake identifier/ },
    { table: "A.B.C; DROP TABLE x", error: /'C; DROP TABLE x' is not an unquoted/ },
    { table: 'A.B."C"', error: /'"C"' is not an unquoted/ },
    { table: "A.B.C --", error: /'C --' is not an unquoted/ },
    { table: "A.B.C\nREFRESH", error: /'C\\u000aREFRESH' is not an unquoted/ },
  ])("refuses $table", ({ table, error }) => {
    // Act
    const act = () => Snowflake.qualifiedTable(table);
    // Assess
    expect(act).toThrow(error);
  });
});

describe("Snowflake.escapeLiteral", () => {
  it.each([
    { name: "plain text", value: "orders/2026/11/23/", expected: "'orders/2026/11/23/'" },
    { name: "empty", value: "", expected: "''" },
    { name: "a single quote (doubled)", value: "o'brien", expected: "'o''brien'" },
    { name: "a backslash (doubled)", value: "a\\b", expected: "'a\\\\b'" },
    { name: "a trailing backslash", value: "a\\", expected: "'a\\\\'" },
    { name: "an escaped quote attempt", value: "\\'", expected: "'\\\\'''" },
    {
      name: "a breakout attempt",
      value: "x'; DROP TABLE t; --",
      expected: "'x''; DROP TABLE t; --'",
    },
    { name: "unicode", value: "région/☃/😀", expected: "'région/☃/😀'" },
    { name: "spaces, ':', '+' and '='", value: "a b:c+d=e", expected: "'a b:c+d=e'" },
  ])("quotes $name", ({ value, expected }) => {
    // Act
    const literal = Snowflake.escapeLiteral(value);
    // Assess
    expect(literal).toBe(expected);
  });

  it.each([
    { name: "NUL", value: "a\u0000b", code: "U+0000" },
    { name: "a newline", value: "a\nb", code: "U+000A" },
    { name: "a tab", value: "a\tb", code: "U+0009" },
    { name: "DEL", value: "a\u007fb", code: "U+007F" },
    { name: "a C1 control", value: "a\u0085b", code: "U+0085" },
  ])("refuses $name", ({ value, code }) => {
    // Act
    const act = () => Snowflake.escapeLiteral(value);
    // Assess
    expect(act).toThrow(`control character ${code} at position 1. Fix: `);
  });
});

describe("Snowflake.refreshSql", () => {
  it.each([
    {
      name: "a partition path",
      table: "analytics.raw.orders_ext",
      path: "2026/11/23/",
      sql: "ALTER EXTERNAL TABLE ANALYTICS.RAW.ORDERS_EXT REFRESH '2026/11/23/'",
    },
    {
      name: "spaces, ':', '+', '=' and unicode",
      table: "A.B.C",
      path: "dt=2026-11-23 10:00+01:00/région ☃/",
      sql: "ALTER EXTERNAL TABLE A.B.C REFRESH 'dt=2026-11-23 10:00+01:00/région ☃/'",
    },
    {
      name: "quotes and backslashes",
      table: "A.B.C",
      path: "o'brien\\x/it''s\\'/",
      sql: "ALTER EXTERNAL TABLE A.B.C REFRESH 'o''brien\\\\x/it''''s\\\\''/'",
    },
    {
      name: "an injection attempt in the path",
      table: "A.B.C",
      path: "x'; DROP TABLE t; --",
      sql: "ALTER EXTERNAL TABLE A.B.C REFRESH 'x''; DROP TABLE t; --'",
    },
    {
      name: "dots that are not a '..' segment",
      table: "A.B.C",
      path: "a..b/.hidden/",
      sql: "ALTER EXTERNAL TABLE A.B.C REFRESH 'a..b/.hidden/'",
    },
    {
      name: "the whole location",
      table: "A.B.C",
      path: "",
      sql: "ALTER EXTERNAL TABLE A.B.C REFRESH ''",
    },
  ])("renders $name", ({ table, path, sql }) => {
    // Act
    const rendered = Snowflake.refreshSql(table, path);
    // Assess
    expect(rendered).toBe(sql);
  });

  it.each([
    {
      name: "an absolute path",
      table: "A.B.C",
      path: "/2026/11/",
      error: /starts with '\/'\. Fix: /,
    },
    { name: "a '..' segment", table: "A.B.C", path: "2026/../secret/", error: /'\.\.' segment/ },
    { name: "a leading '..'", table: "A.B.C", path: "../x", error: /'\.\.' segment/ },
    { name: "only '..'", table: "A.B.C", path: "..", error: /'\.\.' segment/ },
    { name: "a control character", table: "A.B.C", path: "a\u0000", error: /U\+0000/ },
    { name: "an injected table", table: "A.B.C; DROP TABLE x", path: "a/", error: /identifier/ },
  ])("refuses $name", ({ table, path, error }) => {
    // Act
    const act = () => Snowflake.refreshSql(table, path);
    // Assess
    expect(act).toThrow(error);
  });
});

describe("Snowflake.classifyError / isTransient", () => {
  it.each([
    {
      name: "a network error from the driver",
      error: { name: "NetworkError", code: 401001, message: "connect ECONNREFUSED" },
      kind: "transient",
    },
    {
      name: "HTTP 503",
      error: { name: "RequestFailedError", code: 401002, response: { statusCode: 503 } },
      kind: "transient",
    },
    {
      name: "HTTP 429",
      error: { name: "RequestFailedError", code: 401002, response: { statusCode: 429 } },
      kind: "transient",
    },
    {
      name: "HTTP 403",
      error: { name: "RequestFailedError", code: 401002, response: { statusCode: 403 } },
      kind: "auth",
    },
    {
      name: "HTTP 404",
      error: { name: "RequestFailedError", code: 401002, response: { statusCode: 404 } },
      kind: "unknown",
    },
    {
      name: "JWT invalid (390144)",
      error: { code: "390144", message: "JWT token is invalid." },
      kind: "auth",
    },
    { name: "incorrect user (390100)", error: { code: "390100" }, kind: "auth" },
    { name: "key-pair login failed (394304)", error: { code: "394304" }, kind: "auth" },
    {
      name: "a JWT message without code",
      error: new Error("Failed to sign the JWT"),
      kind: "auth",
    },
    { name: "session expired (390112)", error: { code: "390112" }, kind: "transient" },
    { name: "invalid session token (401004)", error: { code: 401004 }, kind: "transient" },
    {
      name: "a terminated connection (407002)",
      error: { code: 407002, isFatal: true },
      kind: "transient",
    },
    {
      name: "a missing table (002003)",
      error: { code: "002003", sqlState: "02000", message: "does not exist or not authorized" },
      kind: "sql",
    },
    { name: "a syntax error (001003)", error: { code: "001003", sqlState: "42000" }, kind: "sql" },
    {
      name: "a privilege error (003001)",
      error: { code: "003001", sqlState: "42501" },
      kind: "sql",
    },
    {
      name: "a statement timeout (000630)",
      error: { code: "000630", sqlState: "57014" },
      kind: "transient",
    },
    {
      name: "an internal error (XX000)",
      error: { code: "000603", sqlState: "XX000" },
      kind: "transient",
    },
    {
      name: "a client-side deadline",
      error: { name: "TimeoutError", message: "late" },
      kind: "transient",
    },
    {
      name: "ECONNRESET",
      error: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      kind: "transient",
    },
    {
      name: "a cause with ECONNREFUSED",
      error: { message: "request failed", cause: { code: "ECONNREFUSED" } },
      kind: "transient",
    },
    {
      name: "a 'service unavailable' message",
      error: new Error("Service Unavailable"),
      kind: "transient",
    },
    { name: "a plain error", error: new Error("boom"), kind: "unknown" },
    { name: "a string", error: "boom", kind: "unknown" },
    { name: "null", error: null, kind: "unknown" },
  ])("$name → $kind", ({ error, kind }) => {
    // Act
    const classified = Snowflake.classifyError(error);
    // Assess
    expect(classified).toBe(kind);
    expect(Snowflake.isTransient(error)).toBe(kind === "transient");
  });
});
