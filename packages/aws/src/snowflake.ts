import { createPrivateKey } from "node:crypto";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { Config, Snowflake } from "@switchyard/core";
import snowflake, { type Connection } from "snowflake-sdk";
import { z } from "zod";
import { clients } from "./clients";

/**
 * Refreshes Snowflake external tables through `snowflake-sdk` with key-pair (JWT) auth. The
 * private key is read from Secrets Manager or SSM when a connection is opened and handed to the
 * driver only; it is never logged, never cached outside the driver's connection and never put
 * in an error message. Connections are reused across warm invocations.
 *
 * Time limits. Each statement carries `STATEMENT_TIMEOUT_IN_SECONDS`, so Snowflake itself
 * aborts it. The driver retries HTTP 5xx and network errors of a statement on its own, up to
 * 1000 times (not configurable in 3.3), so each attempt also has a client-side deadline:
 * the statement timeout plus {@link GRACE_MS}, queueing included. At the deadline the statement
 * is cancelled and the connection dropped. Login retries in the driver are turned off, so
 * there is one retry policy: ours, `maxAttempts` with exponential backoff and jitter.
 */

const identifier = (what: string) =>
  z.string().regex(Snowflake.IDENTIFIER, {
    message: `is not a Snowflake ${what}. Fix: use an unquoted identifier, e.g. 'ANALYTICS'`,
  });

/**
 * How to reach Snowflake: the config's `snowflake` section (account, user, role, warehouse, key
 * location, statement timeout) plus what only the runtime knows.
 */
export const SnowflakeSettings = Config.SnowflakeConnection.extend({
  database: identifier("database").optional(),
  schema: identifier("schema").optional(),
  /** Overrides the URL derived from `account`; the local stand-in's `http://127.0.0.1:<port>`. */
  accessUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Attempts per statement, the first included, before `SnowflakeUnavailable`. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
});
export type SnowflakeSettings = z.output<typeof SnowflakeSettings>;
export type SnowflakeSettingsInput = z.input<typeof SnowflakeSettings>;

/** Slack on top of the statement timeout before the client gives up on an attempt. */
export const GRACE_MS = 2_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 20_000;

/** The login was refused, or the key could not be read. Retrying cannot help. */
export class SnowflakeAuthError extends Error {
  override readonly name = "SnowflakeAuthError";
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Snowflake refused the statement (compilation error, missing table, privileges). */
export class SnowflakeSqlError extends Error {
  override readonly name = "SnowflakeSqlError";
  constructor(
    message: string,
    readonly sql: string,
    readonly code?: string,
    readonly sqlState?: string,
  ) {
    super(message);
  }
}

/** Snowflake could not be reached or did not answer, every attempt. Safe to run again later. */
export class SnowflakeUnavailable extends Error {
  override readonly name = "SnowflakeUnavailable";
  constructor(
    message: string,
    readonly sql: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface RefreshDeps {
  /** Waits between attempts; tests inject one that records and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ x < 1, for the jitter. */
  random?: () => number;
  /** Where retry notices go (never with key material); `console.warn` by default. */
  log?: (line: string) => void;
}

export interface RefreshResult {
  /** The stage-relative path, as given. */
  path: string;
  sql: string;
  rows: Snowflake.RefreshRow[];
}

/**
 * Runs `ALTER EXTERNAL TABLE <table> REFRESH '<path>'` once per distinct path, in order. Every
 * path is validated before anything runs. Transient failures (network, 5xx, timeouts, lost
 * sessions) are retried on a new connection with exponential backoff and jitter, up to
 * `maxAttempts`, then `SnowflakeUnavailable`; a refused login throws `SnowflakeAuthError` and
 * a refused statement `SnowflakeSqlError`, both at once.
 */
export async function refreshExternalTable(
  settings: SnowflakeSettingsInput,
  table: string,
  paths: string[],
  deps: RefreshDeps = {},
): Promise<RefreshResult[]> {
  const s = SnowflakeSettings.parse(settings);
  const planned = [...new Set(paths)].map((path) => ({
    path,
    sql: Snowflake.refreshSql(table, path),
  }));
  const results: RefreshResult[] = [];
  for (const { path, sql } of planned) {
    const rows = await withRetries(s, sql, deps);
    results.push({ path, sql, rows: rows.map(refreshRow) });
  }
  return results;
}

/** Closes every cached connection (logging out of Snowflake). For tests and shutdown. */
export async function closeConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  await Promise.all(
    all.map(async (entry) => {
      const connection = await entry.opening.catch(() => undefined);
      if (connection) await destroy(connection);
    }),
  );
}

async function withRetries(
  s: SnowflakeSettings,
  sql: string,
  deps: RefreshDeps,
): Promise<Record<string, unknown>[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  const log = deps.log ?? ((line: string) => console.warn(line));
  for (let attempt = 1; ; attempt++) {
    let connection: Connection | undefined;
    try {
      connection = await connectionFor(s);
      return await execute(connection, sql, s.statementTimeoutSeconds);
    } catch (error) {
      if (error instanceof SnowflakeAuthError) throw error;
      const kind = Snowflake.classifyError(error);
      const e = summary(error);
      if (kind === "auth") {
        throw new SnowflakeAuthError(
          `Snowflake refused the key-pair login of user ${s.user} to account ${s.account}` +
            ` (${e.text}). Fix: register the public key of the private key in ` +
            `${keyLocation(s)} on the user (ALTER USER ${s.user} SET RSA_PUBLIC_KEY = '…'), and ` +
            "check account, user and role in the config; retrying will not help",
          e.code,
        );
      }
      if (kind === "sql") {
        throw new SnowflakeSqlError(
          `Snowflake refused ${sql} (${e.text}). Fix: check that the external table exists and ` +
            `that role ${s.role ?? "(the user's default role)"} owns it; retrying will not help`,
          sql,
          e.code,
          e.sqlState,
        );
      }
      if (kind !== "transient") {
        const unknown = new Error(
          `Snowflake call failed unexpectedly (${e.text}) running ${sql}. Fix: this is neither ` +
            "a Snowflake nor a network error, so it was not retried; check the settings and the driver",
        );
        unknown.name = e.name || "Error";
        throw unknown;
      }
      if (connection) drop(s, connection);
      if (attempt >= s.maxAttempts) {
        throw new SnowflakeUnavailable(
          `Snowflake did not complete ${sql} in ${attempt} attempt(s); last error: ${e.text}. ` +
            `Fix: check Snowflake's status and the warehouse${s.warehouse ? ` ${s.warehouse}` : ""}; ` +
            "a refresh is idempotent, so running it again (or redriving the message) is safe",
          sql,
          attempt,
        );
      }
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + (random() * cap) / 2);
      log(
        `snowflake: attempt ${attempt} of ${s.maxAttempts} failed (${e.text}); retrying in ${delay} ms`,
      );
      await sleep(delay);
    }
  }
}

/**
 * Open connections, by settings. The key is the parsed settings, which say where the private
 * key is but never hold it. A connection is opened once and reused while the driver says it is
 * up; one that failed is dropped, so the next attempt logs in again.
 */
interface Entry {
  opening: Promise<Connection>;
  connection?: Connection;
}
const connections = new Map<string, Entry>();

const cacheKey = (s: SnowflakeSettings) => JSON.stringify(s);

async function connectionFor(s: SnowflakeSettings): Promise<Connection> {
  const key = cacheKey(s);
  const entry = connections.get(key);
  if (entry) {
    const connection = await entry.opening.catch(() => undefined);
    if (connection?.isUp() && connections.get(key) === entry) return connection;
    if (connections.get(key) === entry) connections.delete(key);
  }
  const created: Entry = { opening: open(s) };
  connections.set(key, created);
  created.opening.then(
    (connection) => {
      created.connection = connection;
    },
    () => {
      if (connections.get(key) === created) connections.delete(key);
    },
  );
  return created.opening;
}

/** Forgets a connection that failed and logs it out in the background. */
function drop(s: SnowflakeSettings, connection: Connection): void {
  const key = cacheKey(s);
  if (connections.get(key)?.connection === connection) connections.delete(key);
  void destroy(connection);
}

/** Logs a connection out; gives up waiting after {@link GRACE_MS} (Snowflake may be gone). */
function destroy(connection: Connection): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, GRACE_MS).unref();
    try {
      connection.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}

const deadlineOf = (s: { statementTimeoutSeconds: number }) =>
  s.statementTimeoutSeconds * 1000 + GRACE_MS;

async function open(s: SnowflakeSettings): Promise<Connection> {
  configureDriver();
  const privateKey = await loadPrivateKey(s);
  const connection = snowflake.createConnection({
    account: s.account,
    username: s.user,
    role: s.role,
    warehouse: s.warehouse,
    database: s.database,
    schema: s.schema,
    ...(s.accessUrl ? { accessUrl: s.accessUrl } : {}),
    authenticator: "SNOWFLAKE_JWT",
    privateKey,
    application: "Switchyard",
    // One retry policy (ours) for logins; HTTP requests outlive the attempt deadline so the
    // driver does not retry a statement the deadline already gave up on.
    sfRetryMaxLoginRetries: 0,
    timeout: deadlineOf(s) + GRACE_MS,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void destroy(connection);
      reject(timeoutError(`login did not answer within ${deadlineOf(s)} ms`));
    }, deadlineOf(s));
    connection.connect((err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
  });
  return connection;
}

/** Runs one statement with the statement timeout and the client-side deadline. */
function execute(
  connection: Connection,
  sqlText: string,
  timeoutSeconds: number,
): Promise<Record<string, unknown>[]> {
  const deadline = deadlineOf({ statementTimeoutSeconds: timeoutSeconds });
  return new Promise((resolve, reject) => {
    let settled = false;
    const statement = connection.execute({
      sqlText,
      parameters: { STATEMENT_TIMEOUT_IN_SECONDS: timeoutSeconds },
      complete: (err, _statement, rows) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve((rows ?? []) as Record<string, unknown>[]);
      },
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      statement.cancel(() => {});
      reject(timeoutError(`the statement did not answer within ${deadline} ms`));
    }, deadline);
  });
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = "TimeoutError";
  return error;
}

function refreshRow(row: Record<string, unknown>): Snowflake.RefreshRow {
  const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  const description = text(row.description ?? row.DESCRIPTION);
  return {
    file: text(row.file ?? row.FILE) ?? "",
    status: text(row.status ?? row.STATUS) ?? "",
    ...(description === undefined ? {} : { description }),
  };
}

function keyLocation(s: SnowflakeSettings): string {
  return "secretArn" in s.privateKey
    ? `Secrets Manager secret ${s.privateKey.secretArn}`
    : `SSM parameter ${s.privateKey.parameterName}`;
}

/**
 * The PEM private key: a Secrets Manager secret whose SecretString is the PEM or JSON with a
 * `privateKey` field, or an SSM SecureString read with decryption. Checked to be a private key
 * before the driver sees it; failures name where the key is, never what it holds.
 */
async function loadPrivateKey(s: SnowflakeSettings): Promise<string> {
  const where = keyLocation(s);
  let raw: string | undefined;
  try {
    if ("secretArn" in s.privateKey) {
      const out = await clients().secrets.send(
        new GetSecretValueCommand({ SecretId: s.privateKey.secretArn }),
      );
      raw =
        out.SecretString ??
        (out.SecretBinary ? Buffer.from(out.SecretBinary).toString("utf8") : undefined);
    } else {
      const out = await clients().ssm.send(
        new GetParameterCommand({ Name: s.privateKey.parameterName, WithDecryption: true }),
      );
      raw = out.Parameter?.Value;
    }
  } catch (error) {
    const name = (error as Error).name;
    if (
      /NotFound|AccessDenied|Decryption|InvalidKeyId|InvalidParameter|InvalidRequest/.test(name)
    ) {
      throw new SnowflakeAuthError(
        `could not read the Snowflake private key from ${where} (${name}). Fix: create it, or ` +
          "allow this function secretsmanager:GetSecretValue / ssm:GetParameter (and kms:Decrypt) on it",
        name,
      );
    }
    throw error;
  }
  const pem = pemFrom(raw);
  try {
    createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new SnowflakeAuthError(
      `${where} does not hold an unencrypted PEM private key. Fix: store the key as ` +
        "'-----BEGIN PRIVATE KEY-----…' (or JSON with a 'privateKey' field holding it)",
    );
  }
  return pem;
}

function pemFrom(raw: string | undefined): string {
  let value = (raw ?? "").trim();
  if (value.startsWith("{")) {
    try {
      const parsed = JSON.parse(value) as { privateKey?: unknown };
      value = typeof parsed.privateKey === "string" ? parsed.privateKey.trim() : "";
    } catch {
      value = "";
    }
  }
  // A PEM pasted into a single-line field keeps its newlines as literal `\n`.
  return value.includes("\n") ? value : value.replaceAll("\\n", "\n");
}

/** What an error says, reduced to its name, codes and redacted message. */
function summary(error: unknown): {
  name: string;
  code?: string;
  sqlState?: string;
  text: string;
} {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    sqlState?: unknown;
    response?: { statusCode?: unknown };
  };
  const name = typeof e.name === "string" ? e.name : "";
  const code = e.code === undefined || e.code === null ? undefined : String(e.code);
  const sqlState = typeof e.sqlState === "string" ? e.sqlState : undefined;
  const status = e.response?.statusCode;
  const message = redact(typeof e.message === "string" ? e.message : String(error));
  const parts = [
    name,
    code,
    sqlState ? `SQL state ${sqlState}` : undefined,
    status ? `HTTP ${String(status)}` : undefined,
  ].filter(Boolean);
  return {
    name,
    ...(code === undefined ? {} : { code }),
    ...(sqlState === undefined ? {} : { sqlState }),
    text: `${parts.join(" ")}: ${message.replace(/\s+/g, " ").trim()}`,
  };
}

/**
 * Removes key material from text: PEM blocks (complete or cut), and long base64 runs mixing
 * upper case, lower case and digits (a PEM body line, a JWT). Hex digests and paths survive.
 */
function redact(text: string): string {
  return text
    .replace(
      /-----BEGIN[^-]*PRIVATE KEY-----[\s\S]*?(-----END[^-]*PRIVATE KEY-----|$)/g,
      "[redacted]",
    )
    .replace(/[A-Za-z0-9+/=_-]{48,}/g, (run) =>
      /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) ? "[redacted]" : run,
    );
}

let driverConfigured = false;

/**
 * The driver logs through us: warnings and errors only, redacted, to stderr. This also keeps
 * it from writing `snowflake.log` into the working directory (read-only on Lambda).
 */
function configureDriver(): void {
  if (driverConfigured) return;
  driverConfigured = true;
  const out = (level: string) => (message: string) =>
    console.warn(`[snowflake-sdk] ${level} ${redact(message)}`);
  const ignore = () => {};
  snowflake.configure({
    logLevel: "WARN",
    customLogger: {
      error: out("ERROR"),
      warn: out("WARN"),
      info: ignore,
      debug: ignore,
      trace: ignore,
    },
  });
}
