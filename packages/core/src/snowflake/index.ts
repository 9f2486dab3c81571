/**
 * The SQL the ingest flow sends to Snowflake, and how to read Snowflake's errors. Pure: no
 * I/O, no driver. Identifiers are never quoted (the config accepts unquoted identifiers only)
 * and values are inlined as escaped string literals, because `ALTER EXTERNAL TABLE … REFRESH`
 * takes no bind variables.
 */

/** Unquoted Snowflake identifier: letter or underscore, then letters, digits, `_` or `$`. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;

/** C0 controls, DEL and C1 controls: not representable safely in a statement or a log line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** One unquoted identifier (a database, schema or table name), returned unchanged. */
export function validateIdentifier(part: string): string {
  if (!IDENTIFIER.test(part)) {
    throw new Error(
      `'${printable(part)}' is not an unquoted Snowflake identifier. Fix: use 1-255 letters, ` +
        "digits, '_' or '$', starting with a letter or '_', e.g. 'ORDERS_EXT'",
    );
  }
  return part;
}

/** `db.schema.table` → `DB.SCHEMA.TABLE`, each part validated (so nothing can be injected). */
export function qualifiedTable(table: string): string {
  const parts = table.split(".");
  if (parts.length !== 3) {
    throw new Error(
      `'${printable(table)}' is not a fully qualified table name. Fix: write ` +
        "DATABASE.SCHEMA.TABLE, e.g. 'ANALYTICS.RAW.ORDERS_EXT'",
    );
  }
  return parts.map((p) => validateIdentifier(p).toUpperCase()).join(".");
}

/**
 * A single-quoted Snowflake string literal. Inside single quotes Snowflake reads backslash
 * escape sequences (`\n`, `\t`, `\\`, `\'`…), unlike standard SQL, so a backslash is written
 * `\\`. A single quote is written doubled (`''`), the standard form Snowflake also accepts.
 * Both are replaced in one pass, so neither escape can be undone by the other. Control
 * characters (NUL included) are refused: no path needs them and they would be rewritten by
 * some layers and not by others.
 */
export function escapeLiteral(value: string): string {
  const control = CONTROL.exec(value);
  if (control) {
    const code = control[0].codePointAt(0) ?? 0;
    throw new Error(
      `string literal contains the control character U+${code.toString(16).toUpperCase().padStart(4, "0")} ` +
        `at position ${control.index}. Fix: remove control characters (NUL, newline, tab…) from the value`,
    );
  }
  return `'${value.replace(/[\\']/g, (c) => (c === "\\" ? "\\\\" : "''"))}'`;
}

/**
 * `ALTER EXTERNAL TABLE DB.SCHEMA.TABLE REFRESH '<path>'`. The path is relative to the
 * external stage's location and may contain spaces, `:`, `+`, `=` and any unicode; it may be
 * empty (the whole location). An absolute path or a `..` segment is refused rather than
 * rewritten: either means the caller computed the path from the wrong base.
 */
export function refreshSql(table: string, relativePath: string): string {
  const name = qualifiedTable(table);
  if (relativePath.startsWith("/")) {
    throw new Error(
      `refresh path '${printable(relativePath)}' starts with '/'. Fix: pass the path relative ` +
        "to the external stage's location, e.g. 'orders/2026/11/23/' not '/orders/2026/11/23/'",
    );
  }
  if (relativePath.split("/").includes("..")) {
    throw new Error(
      `refresh path '${printable(relativePath)}' contains a '..' segment. Fix: pass a path ` +
        "inside the external stage's location, without '..'",
    );
  }
  return `ALTER EXTERNAL TABLE ${name} REFRESH ${escapeLiteral(relativePath)}`;
}

/** One row of `ALTER EXTERNAL TABLE … REFRESH`'s result: what happened to one file. */
export interface RefreshRow {
  /** The file's path relative to the stage location. */
  file: string;
  status: "REGISTERED_NEW" | "REGISTERED_UPDATE" | "UNREGISTERED" | (string & {});
  description?: string;
}

/**
 * What a failed Snowflake call means for the caller:
 * - `auth`: the login was refused (wrong key, user, account or role); retrying cannot help;
 * - `sql`: Snowflake refused the statement (compilation error, missing object, privileges);
 * - `transient`: network, HTTP 5xx/408/429, timeouts, lost sessions, Snowflake-side aborts;
 *   the same call may succeed later, on a new connection;
 * - `unknown`: anything else (a programming error); not retried.
 */
export type ErrorKind = "auth" | "sql" | "transient" | "unknown";

/**
 * Login codes (GS `390xxx`/`394xxx`) that mean "these credentials are refused": 390100
 * incorrect user or password, 390144 JWT invalid (wrong key, or the public key is not set on
 * the user), 390186 role not granted to the user, 390189 role does not exist, 394304
 * authentication failed.
 */
const AUTH_CODES = new Set(["390100", "390144", "390186", "390189", "394304"]);

/**
 * Session codes that a new login fixes: 390104 invalid session token, 390111 session gone,
 * 390112 session expired, 390114 master token expired.
 */
const SESSION_CODES = new Set(["390104", "390111", "390112", "390114"]);

/**
 * Statement codes Snowflake uses when it aborted a statement for its own reasons: 000603
 * internal error, 000604 canceled, 000625 too many waiters for a lock, 000630 statement
 * timeout (`STATEMENT_TIMEOUT_IN_SECONDS`).
 */
const TRANSIENT_STATEMENT_CODES = new Set(["000603", "000604", "000625", "000630"]);

/**
 * snowflake-sdk's own numeric codes: 401001 could not connect, 401003 response not JSON,
 * 401004 invalid session token, 405503 connect on a terminated connection, 407002 request on
 * a terminated connection. 401002 (HTTP failure) depends on the status and is handled apart.
 */
const TRANSIENT_CLIENT_CODES = new Set(["401001", "401003", "401004", "405503", "407002"]);

/** Node and undici network error codes. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_SOCKET",
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  sqlState?: unknown;
  response?: { statusCode?: unknown; status?: unknown };
  cause?: unknown;
}

const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");

/** Snowflake's GS codes are 6-digit strings; the driver's are numbers. Normalise to 6 digits. */
const codeOf = (e: ErrorLike) => {
  const code = str(e.code);
  return /^\d+$/.test(code) ? code.padStart(6, "0") : code;
};

/**
 * Classifies an error from snowflake-sdk (or from the network under it). What it relies on,
 * in order:
 * 1. `code`: Snowflake's login codes (`AUTH_CODES`) → auth; session codes → transient;
 *    statement codes Snowflake uses for aborts and timeouts → transient; the driver's own
 *    connection codes → transient; 401002 (HTTP failure) → transient for
 *    `response.statusCode` 5xx, 408 and 429, auth for 401/403;
 * 2. `sqlState`: class `08` (connection) and `57014` (canceled) → transient, `XX000`
 *    (internal) → transient; any other SQL state, or a 6-digit code below 390000 → sql;
 * 3. the message: anything about a JWT or a private key → auth;
 * 4. `name` (`NetworkError`, `TimeoutError`, `AbortError`) and Node's network codes on the
 *    error or its `cause` → transient; a message saying "timed out", "timeout" or
 *    "service unavailable" → transient.
 * `isFatal` is not used: the driver sets it on client-side misuse, not on server errors.
 */
export function classifyError(error: unknown): ErrorKind {
  if (typeof error !== "object" || error === null) return "unknown";
  const e = error as ErrorLike;
  const code = codeOf(e);
  const message = str(e.message);
  const sqlState = str(e.sqlState);

  if (AUTH_CODES.has(code)) return "auth";
  if (SESSION_CODES.has(code)) return "transient";
  if (TRANSIENT_STATEMENT_CODES.has(code)) return "transient";
  if (TRANSIENT_CLIENT_CODES.has(code)) return "transient";
  if (code === "401002") {
    const status = Number(e.response?.statusCode ?? e.response?.status);
    if (status >= 500 || status === 408 || status === 429) return "transient";
    if (status === 401 || status === 403) return "auth";
    return "unknown";
  }
  if (/^08/.test(sqlState) || sqlState === "57014" || sqlState === "XX000") return "transient";
  if (sqlState !== "" || (/^\d{6}$/.test(code) && code < "390000")) return "sql";
  if (/\bJWT\b|private key/i.test(message)) return "auth";

  const name = str(e.name);
  if (name === "NetworkError" || name === "TimeoutError" || name === "AbortError") {
    return "transient";
  }
  const causeCode = codeOf((e.cause ?? {}) as ErrorLike);
  if (NETWORK_CODES.has(str(e.code)) || NETWORK_CODES.has(causeCode)) return "transient";
  if (/timed? ?out|service unavailable/i.test(message)) return "transient";
  return "unknown";
}

/** True when the same call may succeed later (see {@link classifyError}). */
export function isTransient(error: unknown): boolean {
  return classifyError(error) === "transient";
}

/** The value for an error message: control characters shown as `\u….`, long values cut. */
function printable(value: string): string {
  const shown = value.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
    /[\u0000-\u001f\u007f-\u009f]/gu,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}
