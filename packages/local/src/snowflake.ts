/**
 * A local stand-in for Snowflake: a loopback HTTP server that speaks the REST protocol the real
 * `snowflake-sdk` (3.3) uses, so the adapter connects to it unchanged through `accessUrl`.
 * It knows one statement for real: `ALTER EXTERNAL TABLE … REFRESH '<path>'`, answered from the
 * objects actually present under the table's stage location in the emulator's S3. Every other
 * statement succeeds with no rows. Failures can be injected (`failNext`) to exercise retries.
 *
 * Endpoints (what the driver calls):
 * - `POST /session/v1/login-request`: login; with `publicKeyPem` the key-pair JWT is verified
 *   (RS256 signature, `iss`/`sub` claims with the key's fingerprint, expiry);
 * - `POST /queries/v1/query-request?requestId=…`: run a statement; a retried request (same
 *   `requestId`) gets the first answer again, as Snowflake does;
 * - `GET /queries/<id>/result`, `GET /monitoring/queries/<id>`: a result or status by query id;
 * - `POST /queries/v1/abort-request`, `POST /queries/<id>/abort-request`: cancel;
 * - `POST /session/token-request` (renew), `POST /session/heartbeat`, `POST /telemetry/send`,
 *   `POST /session?delete=true` (logout).
 */
import { createHash, createPublicKey, randomUUID, verify } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";

export interface SnowflakeStandInOptions {
  /** Reads the stage locations (the emulator's S3). */
  s3: S3Client;
  /** External table (`DB.SCHEMA.TABLE`) → its stage location `s3://<bucket>/<prefix>`. */
  stages: Record<string, { bucket: string; prefix: string }>;
  /** When given, logins must carry a JWT signed by the matching private key. */
  publicKeyPem?: string;
  /** The account logins must name in their JWT; `local` (the `local` stage's) by default. */
  account?: string;
  log?: (line: string) => void;
}

export type InjectedFailure = "auth" | "5xx" | "timeout";

export interface SnowflakeStandIn {
  /** What the driver's `accessUrl` must be. */
  accessUrl: string;
  account: string;
  /** Every statement that reached the stand-in's engine, in order. */
  statements: string[];
  /**
   * Makes the next `times` (default 1) requests fail:
   * - `auth`: logins are refused with Snowflake's JWT error (390144);
   * - `5xx`: logins or statements are answered HTTP 503 before they run;
   * - `timeout`: statements are never answered, until the client gives up or cancels them.
   * Heartbeats, telemetry and logouts are never failed, so the count stays predictable.
   */
  failNext(kind: InjectedFailure, times?: number): void;
  /** Stops the server, ending any request still held open. Safe to call twice. */
  close(): Promise<void>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Session {
  id: number;
  token: string;
  masterToken: string;
  user: string;
  database: string | null;
  schema: string | null;
  warehouse: string | null;
  role: string | null;
}

/** A statement held without an answer (injected timeout). */
interface Held {
  res: ServerResponse;
  session: Session;
  requestId: string;
  queryId: string;
}

const SESSION_VALIDITY_SECONDS = 3600;
const MASTER_VALIDITY_SECONDS = 4 * 3600;
const STATEMENT_TYPE_DDL = 0x6000;

/** A statement's answer, or Snowflake's error for it. */
type Outcome =
  | { ok: true; columns: string[]; rows: (string | null)[][] }
  | { ok: false; code: string; sqlState: string; message: string };

/** Starts the stand-in on a free loopback port. */
export async function startSnowflakeStandIn(o: SnowflakeStandInOptions): Promise<SnowflakeStandIn> {
  const log = o.log ?? (() => {});
  const account = o.account ?? "local";
  const stages = new Map(
    Object.entries(o.stages).map(([table, stage]) => [normalTable(table), stage] as const),
  );
  const verifier = o.publicKeyPem ? jwtVerifier(o.publicKeyPem) : undefined;
  const statements: string[] = [];
  const failures: Record<InjectedFailure, number> = { auth: 0, "5xx": 0, timeout: 0 };
  const sessions = new Map<string, Session>();
  const byMasterToken = new Map<string, Session>();
  /** What each table's refreshes registered: stage-relative key → ETag. */
  const registered = new Map<string, Map<string, string>>();
  /** Answers by request id (for the driver's retries) and by query id (for result fetches). */
  const answers = new Map<string, Json>();
  const answersByQueryId = new Map<string, Json>();
  const held = new Set<Held>();
  let nextSessionId = 1;
  let closed = false;

  const take = (kind: InjectedFailure) => {
    if (failures[kind] <= 0) return false;
    failures[kind]--;
    return true;
  };

  function login(url: URL, body: Record<string, unknown>): { status: number; json: Json } {
    const data = (body.data ?? {}) as Record<string, unknown>;
    const user = String(data.LOGIN_NAME ?? "");
    if (take("auth")) {
      log(`[snowflake] login of ${user} refused (injected auth failure)`);
      return { status: 200, json: jwtInvalid(user) };
    }
    if (verifier) {
      const problem = verifier(String(data.TOKEN ?? ""), account, user);
      if (problem) {
        log(`[snowflake] login of ${user} refused: ${problem}`);
        return { status: 200, json: jwtInvalid(user) };
      }
    }
    const session: Session = {
      id: nextSessionId++,
      token: `standin-session-${randomUUID()}`,
      masterToken: `standin-master-${randomUUID()}`,
      user,
      database: url.searchParams.get("databaseName"),
      schema: url.searchParams.get("schemaName"),
      warehouse: url.searchParams.get("warehouse"),
      role: url.searchParams.get("roleName"),
    };
    sessions.set(session.token, session);
    byMasterToken.set(session.masterToken, session);
    log(`[snowflake] login of ${user} (session ${session.id})`);
    return {
      status: 200,
      json: success({
        token: session.token,
        validityInSeconds: SESSION_VALIDITY_SECONDS,
        masterToken: session.masterToken,
        masterValidityInSeconds: MASTER_VALIDITY_SECONDS,
        sessionId: session.id,
        displayUserName: user,
        serverVersion: "standin",
        firstLogin: false,
        healthCheckInterval: 45,
        parameters: [],
        sessionInfo: {
          databaseName: session.database,
          schemaName: session.schema,
          warehouseName: session.warehouse,
          roleName: session.role,
        },
      }),
    };
  }

  async function refresh(table: string, path: string): Promise<Outcome> {
    const stage = stages.get(table);
    if (!stage) {
      return {
        ok: false,
        code: "002003",
        sqlState: "02000",
        message: `SQL compilation error:\nTable '${table}' does not exist or not authorized.`,
      };
    }
    const listed = new Map<string, string>();
    const pages = paginateListObjectsV2(
      { client: o.s3 },
      { Bucket: stage.bucket, Prefix: `${stage.prefix}${path}` },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith("/")) continue;
        listed.set(object.Key.slice(stage.prefix.length), (object.ETag ?? "").replaceAll('"', ""));
      }
    }
    let known = registered.get(table);
    if (!known) {
      known = new Map();
      registered.set(table, known);
    }
    const rows: string[][] = [];
    for (const [file, etag] of listed) {
      const before = known.get(file);
      if (before === undefined)
        rows.push([file, "REGISTERED_NEW", "File registered successfully."]);
      else if (before !== etag) {
        rows.push([file, "REGISTERED_UPDATE", "File registered successfully."]);
      }
      known.set(file, etag);
    }
    for (const file of [...known.keys()].sort()) {
      if (file.startsWith(path) && !listed.has(file)) {
        rows.push([file, "UNREGISTERED", "File unregistered successfully."]);
        known.delete(file);
      }
    }
    return { ok: true, columns: ["file", "status", "description"], rows };
  }

  async function run(sql: string): Promise<Outcome> {
    const text = sql.trim().replace(/;\s*$/, "");
    const alter =
      /^ALTER\s+EXTERNAL\s+TABLE\s+(\S+)\s+REFRESH(?:\s+('(?:[^'\\]|\\[\s\S]|'')*'))?$/i.exec(text);
    if (alter?.[1]) {
      return refresh(normalTable(alter[1]), alter[2] ? unquote(alter[2]) : "");
    }
    return { ok: true, columns: ["status"], rows: [] };
  }

  function answer(outcome: Outcome, session: Session, queryId: string): Json {
    if (!outcome.ok) {
      return {
        data: {
          internalError: false,
          errorCode: outcome.code,
          age: 0,
          sqlState: outcome.sqlState,
          queryId,
          line: -1,
          pos: -1,
          type: "COMPILATION",
        },
        code: outcome.code,
        message: outcome.message,
        success: false,
        headers: null,
      };
    }
    return success({
      parameters: [],
      rowtype: outcome.columns.map((name) => ({
        name,
        database: "",
        schema: "",
        table: "",
        type: "text",
        length: 16_777_216,
        byteLength: 16_777_216,
        precision: null,
        scale: null,
        nullable: true,
        collation: null,
      })),
      rowset: outcome.rows,
      total: outcome.rows.length,
      returned: outcome.rows.length,
      queryId,
      databaseProvider: null,
      finalDatabaseName: session.database,
      finalSchemaName: session.schema,
      finalWarehouseName: session.warehouse,
      finalRoleName: session.role,
      numberOfBinds: 0,
      arrayBindSupported: false,
      statementTypeId: STATEMENT_TYPE_DDL,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: "json",
    });
  }

  async function query(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    session: Session,
    body: Record<string, unknown>,
  ): Promise<void> {
    const requestId = url.searchParams.get("requestId") ?? randomUUID();
    const previous = answers.get(requestId);
    if (previous !== undefined) return send(res, 200, previous);
    const sql = String(body.sqlText ?? "");
    statements.push(sql);
    log(`[snowflake] ${sql}`);
    const queryId = randomUUID();
    if (take("timeout")) {
      log("[snowflake] holding the statement without an answer (injected timeout)");
      const entry: Held = { res, session, requestId, queryId };
      held.add(entry);
      req.socket.once("close", () => held.delete(entry));
      return;
    }
    const outcome = await run(sql);
    const json = answer(outcome, session, queryId);
    answers.set(requestId, json);
    answersByQueryId.set(queryId, json);
    send(res, 200, json);
  }

  /** Answers a held statement with Snowflake's "canceled" error. */
  function cancel(match: (h: Held) => boolean): void {
    for (const h of held) {
      if (!match(h)) continue;
      held.delete(h);
      send(h.res, 200, {
        data: { errorCode: "000604", sqlState: "57014", queryId: h.queryId },
        code: "000604",
        message: "SQL execution canceled",
        success: false,
        headers: null,
      });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://standin");
    const path = url.pathname;
    const body = await readJson(req);

    if (req.method === "POST" && path === "/session/v1/login-request") {
      if (take("5xx")) return unavailable(res, log, "login");
      const { status, json } = login(url, body);
      return send(res, status, json);
    }

    if (req.method === "POST" && path === "/session/token-request") {
      const session = byMasterToken.get(tokenOf(req));
      if (!session) return send(res, 200, failure("390114", "Master token has expired."));
      sessions.delete(session.token);
      session.token = `standin-session-${randomUUID()}`;
      sessions.set(session.token, session);
      return send(
        res,
        200,
        success({
          sessionToken: session.token,
          validityInSecondsST: SESSION_VALIDITY_SECONDS,
          masterToken: session.masterToken,
          validityInSecondsMT: MASTER_VALIDITY_SECONDS,
          sessionId: session.id,
        }),
      );
    }

    const session = sessions.get(tokenOf(req));
    if (!session) {
      return send(res, 401, failure("390104", "Invalid session token. Please login again."));
    }

    if (req.method === "POST" && path === "/session" && url.searchParams.has("delete")) {
      sessions.delete(session.token);
      byMasterToken.delete(session.masterToken);
      cancel((h) => h.session === session);
      return send(res, 200, success(null));
    }
    if (req.method === "POST" && (path === "/session/heartbeat" || path === "/telemetry/send")) {
      return send(res, 200, success(path === "/telemetry/send" ? "Log Received" : null));
    }
    if (req.method === "POST" && path === "/queries/v1/query-request") {
      if (take("5xx")) return unavailable(res, log, "statement");
      return query(req, res, url, session, body);
    }
    if (req.method === "POST" && path === "/queries/v1/abort-request") {
      const requestId = String(body.requestId ?? "");
      cancel((h) => h.requestId === requestId);
      return send(res, 200, success(null));
    }
    const byId = /^\/queries\/([^/]+)\/(abort-request|result)$/.exec(path);
    if (byId?.[1] && byId[2] === "abort-request" && req.method === "POST") {
      const queryId = byId[1];
      cancel((h) => h.queryId === queryId);
      return send(res, 200, success(null));
    }
    if (byId?.[1] && byId[2] === "result" && req.method === "GET") {
      const found = answersByQueryId.get(byId[1]);
      return send(res, 200, found ?? failure("000709", `Statement ${byId[1]} not found`));
    }
    const monitored = /^\/monitoring\/queries\/([^/]+)$/.exec(path);
    if (monitored?.[1] && req.method === "GET") {
      const queryId = monitored[1];
      const found = answersByQueryId.get(queryId) as { success?: boolean } | undefined;
      const running = [...held].some((h) => h.queryId === queryId);
      const status = running
        ? "RUNNING"
        : found === undefined
          ? "NO_DATA"
          : found.success
            ? "SUCCESS"
            : "FAILED_WITH_ERROR";
      return send(res, 200, success({ queries: [{ id: queryId, status }] }));
    }
    send(
      res,
      404,
      failure("000000", `the Snowflake stand-in does not serve ${req.method} ${path}`),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[snowflake] internal error: ${(error as Error).message}`);
      if (!res.headersSent) send(res, 500, failure("000603", (error as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    accessUrl: `http://127.0.0.1:${port}`,
    account,
    statements,
    failNext(kind, times = 1) {
      failures[kind] += times;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const h of held) h.res.destroy();
      held.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** `db.schema."Table"` → `DB.SCHEMA.Table`: unquoted parts upper-cased, quoted parts verbatim. */
function normalTable(name: string): string {
  const parts = name.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [];
  return parts
    .map((p) => (p.startsWith('"') ? p.slice(1, -1).replaceAll('""', '"') : p.toUpperCase()))
    .join(".");
}

/** Reads a Snowflake single-quoted literal: `''` and backslash escape sequences. */
function unquote(literal: string): string {
  const escapes: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    b: "\b",
    f: "\f",
    "0": "\0",
  };
  return literal
    .slice(1, -1)
    .replace(/''|\\([\s\S])/g, (m, c: string | undefined) =>
      m === "''" ? "'" : (escapes[c ?? ""] ?? c ?? ""),
    );
}

/**
 * Checks a key-pair login's JWT the way Snowflake does: RS256 signature by the registered
 * public key, `sub` = `ACCOUNT.USER`, `iss` = `ACCOUNT.USER.SHA256:<public key fingerprint>`,
 * not expired. Returns what is wrong, or undefined. snowflake-sdk 3.3 writes `iat`/`exp` in
 * milliseconds; seconds are accepted too.
 */
function jwtVerifier(publicKeyPem: string) {
  const key = createPublicKey(publicKeyPem);
  const der = key.export({ format: "der", type: "spki" });
  const fingerprint = `SHA256:${createHash("sha256").update(der).digest("base64")}`;
  return (token: string, account: string, user: string): string | undefined => {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return "no JWT in the login request";
    let claims: { iss?: unknown; sub?: unknown; exp?: unknown };
    let alg: unknown;
    try {
      alg = (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown })
        .alg;
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return "the JWT is not valid JSON";
    }
    if (alg !== "RS256") return `the JWT is signed with ${String(alg)}, not RS256`;
    const signed = verify(
      "RSA-SHA256",
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, "base64url"),
    );
    if (!signed) return "the JWT signature does not match the registered public key";
    const subject = `${account.split(".")[0]?.toUpperCase()}.${user.toUpperCase()}`;
    if (claims.sub !== subject) return `the JWT subject is ${String(claims.sub)}, not ${subject}`;
    if (claims.iss !== `${subject}.${fingerprint}`) {
      return "the JWT issuer does not name the registered public key's fingerprint";
    }
    const exp = Number(claims.exp);
    const expiresAt = exp > 1e12 ? exp : exp * 1000;
    if (!Number.isFinite(expiresAt) || expiresAt < Date.now()) return "the JWT has expired";
    return undefined;
  };
}

const success = (data: Json): Json => ({ data, code: null, message: null, success: true });

const failure = (code: string, message: string): Json => ({
  data: null,
  code,
  message,
  success: false,
  headers: null,
});

const jwtInvalid = (user: string): Json => ({
  data: { nextAction: "RETRY_LOGIN", authnMethod: "KEY_PAIR", loginName: user },
  code: "390144",
  message: `JWT token is invalid. [${randomUUID()}]`,
  success: false,
  headers: null,
});

/** The session token from `Authorization: Snowflake Token="…"`. */
function tokenOf(req: IncomingMessage): string {
  return /Token="([^"]*)"/.exec(req.headers.authorization ?? "")?.[1] ?? "";
}

/**
 * The request's JSON body. snowflake-sdk 3.3 may label a plain JSON body `Content-Encoding:
 * gzip` (it gzips asynchronously and races the send), so the gzip magic bytes decide.
 */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  if (raw.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function send(res: ServerResponse, status: number, json: Json): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(json));
}

function unavailable(res: ServerResponse, log: (line: string) => void, what: string): void {
  log(`[snowflake] answering the ${what} request with HTTP 503 (injected)`);
  res.writeHead(503, { "content-type": "text/plain" });
  res.end("Service Unavailable");
}
