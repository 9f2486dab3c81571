import { generateKeyPairSync } from "node:crypto";
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Snowflake } from "../../packages/aws/src";
import { type SnowflakeStandIn, startSnowflakeStandIn } from "../../packages/local/src/snowflake";
import { useEmulator } from "../support/emulator";

/**
 * The Snowflake adapter with the real snowflake-sdk against the local stand-in, which answers
 * REFRESH from the emulator's S3 and verifies the key-pair JWT. The private keys live in the
 * emulator's Secrets Manager and SSM.
 */
const { clients } = useEmulator();

const BUCKET = "lake";
const PREFIX = "orders/";
const TABLE = "ANALYTICS.RAW.ORDERS_EXT";
const USER = "SWITCHYARD_INGEST";
const PARAMETER = "/switchyard/test/snowflake/private-key";

interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

const keyPair = (): KeyPair => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
};

type KeySource = "secret (PEM)" | "secret (JSON)" | "parameter";

/** Stores the private key where the settings will say it is. */
async function storeKey(
  pem: string,
  source: KeySource,
): Promise<Snowflake.SnowflakeSettingsInput["privateKey"]> {
  if (source === "parameter") {
    await clients().ssm.send(
      new PutParameterCommand({ Name: PARAMETER, Type: "SecureString", Value: pem }),
    );
    return { parameterName: PARAMETER };
  }
  const { ARN } = await clients().secrets.send(
    new CreateSecretCommand({
      Name: "switchyard/snowflake-private-key",
      SecretString: source === "secret (JSON)" ? JSON.stringify({ privateKey: pem }) : pem,
    }),
  );
  return { secretArn: ARN ?? "" };
}

const putObject = (key: string, body: string) =>
  clients().s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

let standIn: SnowflakeStandIn | undefined;
let logLines: string[] = [];

interface Fixture {
  keys: KeyPair;
  standIn: SnowflakeStandIn;
  settings: Snowflake.SnowflakeSettingsInput;
}

/** A bucket, a key pair stored in `source`, and a stand-in that knows the public key. */
async function prepare(
  o: { source?: KeySource; registeredKey?: KeyPair; statementTimeoutSeconds?: number } = {},
): Promise<Fixture> {
  await clients().s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const keys = keyPair();
  const privateKey = await storeKey(keys.privateKeyPem, o.source ?? "secret (PEM)");
  standIn = await startSnowflakeStandIn({
    s3: clients().s3,
    stages: { [TABLE]: { bucket: BUCKET, prefix: PREFIX } },
    publicKeyPem: (o.registeredKey ?? keys).publicKeyPem,
    log: (line) => logLines.push(line),
  });
  return {
    keys,
    standIn,
    settings: {
      account: standIn.account,
      user: USER,
      warehouse: "INGEST_WH",
      accessUrl: standIn.accessUrl,
      privateKey,
      statementTimeoutSeconds: o.statementTimeoutSeconds ?? 5,
      maxAttempts: 3,
    },
  };
}

/** Test doubles for the adapter's waits and log. */
const deps = () => {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    log: (line: string) => logLines.push(line),
  };
};

const files = (rows: { file: string; status: string }[]) =>
  rows.map((r) => `${r.status} ${r.file}`).sort();

afterEach(async () => {
  await Snowflake.closeConnections();
  await standIn?.close();
  standIn = undefined;
  logLines = [];
});

describe("Snowflake.refreshExternalTable (real snowflake-sdk, stand-in, emulator)", () => {
  it.each<KeySource>(["secret (PEM)", "secret (JSON)", "parameter"])(
    "logs in with a JWT signed by the key in the %s",
    async (source) => {
      // Prepare
      const f = await prepare({ source });
      await putObject("orders/2026/11/23/a.csv", "id\n1\n");
      await putObject("orders/2026/11/23/b.csv", "id\n2\n");

      // Act
      const results = await Snowflake.refreshExternalTable(
        f.settings,
        TABLE,
        ["2026/11/23/"],
        deps(),
      );

      // Assess
      expect(results).toEqual([
        {
          path: "2026/11/23/",
          sql: `ALTER EXTERNAL TABLE ${TABLE} REFRESH '2026/11/23/'`,
          rows: [
            { file: "2026/11/23/a.csv", status: "REGISTERED_NEW", description: expect.any(String) },
            { file: "2026/11/23/b.csv", status: "REGISTERED_NEW", description: expect.any(String) },
          ],
        },
      ]);
      expect(logLines).toContain(`[snowflake] login of ${USER} (session 1)`);
    },
  );

  it("reports updated and unregistered files after an overwrite and a delete, then nothing", async () => {
    // Prepare
    const f = await prepare();
    await putObject("orders/2026/11/23/a.csv", "id\n1\n");
    await putObject("orders/2026/11/23/b.csv", "id\n2\n");
    const refresh = () =>
      Snowflake.refreshExternalTable(f.settings, TABLE, ["2026/11/23/"], deps());
    const first = await refresh();
    await putObject("orders/2026/11/23/a.csv", "id\n1\n3\n");
    await clients().s3.send(
      new DeleteObjectCommand({ Bucket: BUCKET, Key: "orders/2026/11/23/b.csv" }),
    );

    // Act
    const second = await refresh();
    const third = await refresh();

    // Assess
    expect(files(first[0]?.rows ?? [])).toEqual([
      "REGISTERED_NEW 2026/11/23/a.csv",
      "REGISTERED_NEW 2026/11/23/b.csv",
    ]);
    expect(files(second[0]?.rows ?? [])).toEqual([
      "REGISTERED_UPDATE 2026/11/23/a.csv",
      "UNREGISTERED 2026/11/23/b.csv",
    ]);
    expect(third[0]?.rows).toEqual([]);
  });

  it("runs one statement per distinct path, in order, on one reused connection", async () => {
    // Prepare
    const f = await prepare();
    await putObject("orders/2026/11/23/a.csv", "a");
    await putObject("orders/2026/11/24/b.csv", "b");

    // Act
    const results = await Snowflake.refreshExternalTable(
      f.settings,
      TABLE,
      ["2026/11/23/", "2026/11/24/", "2026/11/23/"],
      deps(),
    );

    // Assess
    expect(results.map((r) => r.path)).toEqual(["2026/11/23/", "2026/11/24/"]);
    expect(f.standIn.statements).toEqual([
      `ALTER EXTERNAL TABLE ${TABLE} REFRESH '2026/11/23/'`,
      `ALTER EXTERNAL TABLE ${TABLE} REFRESH '2026/11/24/'`,
    ]);
    expect(logLines.filter((l) => l.includes("login of"))).toHaveLength(1);
  });

  it.each([
    {
      name: "spaces, ':', '+', '=' and unicode",
      path: "dt=2026-11-23 10:00+01:00/région é ☃/",
      sql: `ALTER EXTERNAL TABLE ${TABLE} REFRESH 'dt=2026-11-23 10:00+01:00/région é ☃/'`,
    },
    {
      name: "quotes and backslashes",
      path: "it's/back\\slash/",
      sql: `ALTER EXTERNAL TABLE ${TABLE} REFRESH 'it''s/back\\\\slash/'`,
    },
  ])("round-trips a path with $name and lists exactly that prefix", async ({ path, sql }) => {
    // Prepare
    const f = await prepare();
    await putObject(`${PREFIX}${path}a b.csv`, "1");
    await putObject(`${PREFIX}${path.slice(0, -1)} 2/not-this.csv`, "2");
    await putObject(`${PREFIX}${path.slice(0, -2)}/nor-this.csv`, "3");

    // Act
    const [result] = await Snowflake.refreshExternalTable(f.settings, TABLE, [path], deps());

    // Assess
    expect(f.standIn.statements).toEqual([sql]);
    expect(result?.rows.map((r) => r.file)).toEqual([`${path}a b.csv`]);
  });

  it.each([
    { name: "login", warm: false, sleeps: 1 },
    { name: "statement (the driver retries it itself)", warm: true, sleeps: 0 },
  ])("retries an HTTP 503 on the $name and succeeds", async ({ warm, sleeps }) => {
    // Prepare
    const f = await prepare();
    await putObject("orders/x/a.csv", "a");
    if (warm) await Snowflake.refreshExternalTable(f.settings, TABLE, ["y/"], deps());
    f.standIn.failNext("5xx");
    const d = deps();

    // Act
    const [result] = await Snowflake.refreshExternalTable(f.settings, TABLE, ["x/"], d);

    // Assess
    expect(result?.rows).toEqual([
      { file: "x/a.csv", status: "REGISTERED_NEW", description: expect.any(String) },
    ]);
    expect(d.sleeps).toHaveLength(sleeps);
    expect(logLines.some((l) => l.includes("HTTP 503 (injected)"))).toBe(true);
  });

  it.each([
    { name: "the key is not the user's", wrongKey: true },
    { name: "Snowflake refuses the login", wrongKey: false },
  ])("does not retry when $name, and throws SnowflakeAuthError", async ({ wrongKey }) => {
    // Prepare
    const f = await prepare(wrongKey ? { registeredKey: keyPair() } : {});
    if (!wrongKey) f.standIn.failNext("auth");
    const d = deps();

    // Act
    const refresh = Snowflake.refreshExternalTable(f.settings, TABLE, ["x/"], d);

    // Assess
    await expect(refresh).rejects.toMatchObject({
      name: "SnowflakeAuthError",
      code: "390144",
      message: expect.stringMatching(/refused the key-pair login of user SWITCHYARD_INGEST.*Fix: /),
    });
    expect(d.sleeps).toEqual([]);
    expect(f.standIn.statements).toEqual([]);
  });

  it("throws SnowflakeSqlError for an unknown table, without retrying", async () => {
    // Prepare
    const f = await prepare();
    const d = deps();

    // Act
    const refresh = Snowflake.refreshExternalTable(f.settings, "ANALYTICS.RAW.MISSING", ["x/"], d);

    // Assess
    await expect(refresh).rejects.toMatchObject({
      name: "SnowflakeSqlError",
      code: "002003",
      sqlState: "02000",
      message: expect.stringContaining("does not exist or not authorized"),
    });
    expect(d.sleeps).toEqual([]);
    expect(f.standIn.statements).toHaveLength(1);
  });

  it("gives up with SnowflakeUnavailable when every attempt hits the statement timeout", async () => {
    // Prepare
    const f = await prepare({ statementTimeoutSeconds: 1 });
    f.standIn.failNext("timeout", 3);
    const d = deps();

    // Act
    const refresh = Snowflake.refreshExternalTable(f.settings, TABLE, ["x/"], d);

    // Assess
    await expect(refresh).rejects.toMatchObject({
      name: "SnowflakeUnavailable",
      attempts: 3,
      message: expect.stringMatching(/in 3 attempt\(s\); last error: TimeoutError.*Fix: /),
    });
    expect(d.sleeps).toHaveLength(2);
    expect(d.sleeps[1]).toBeGreaterThan(d.sleeps[0] ?? 0);
    expect(f.standIn.statements).toEqual(
      Array(3).fill(`ALTER EXTERNAL TABLE ${TABLE} REFRESH 'x/'`),
    );
  });

  it("close() ends a statement the stand-in holds for an injected timeout", async () => {
    // Prepare
    standIn = await startSnowflakeStandIn({ s3: clients().s3, stages: {} });
    const login = await fetch(`${standIn.accessUrl}/session/v1/login-request`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { LOGIN_NAME: USER } }),
    });
    const { data } = (await login.json()) as { data: { token: string } };
    standIn.failNext("timeout");
    const held = fetch(`${standIn.accessUrl}/queries/v1/query-request?requestId=r1`, {
      method: "POST",
      headers: { authorization: `Snowflake Token="${data.token}"` },
      body: JSON.stringify({ sqlText: "SELECT 1" }),
    });
    await vi.waitFor(() => expect(standIn?.statements).toEqual(["SELECT 1"]));

    // Act
    const closing = standIn.close();

    // Assess
    await expect(closing).resolves.toBeUndefined();
    await expect(held).rejects.toThrow();
  });

  it("never puts the private key in a log line or an error message", async () => {
    // Prepare
    const methods = ["log", "info", "warn", "error", "debug"] as const;
    const spies = methods.map((m) =>
      vi.spyOn(globalThis.console, m).mockImplementation((...args: unknown[]) => {
        logLines.push(args.map(String).join(" "));
      }),
    );
    const f = await prepare();
    const otherUsersKey = await startSnowflakeStandIn({
      s3: clients().s3,
      stages: {},
      publicKeyPem: keyPair().publicKeyPem,
      log: (line) => logLines.push(line),
    });
    const errors: unknown[] = [];

    // Act
    f.standIn.failNext("5xx");
    await Snowflake.refreshExternalTable(f.settings, TABLE, ["x/"], deps()).catch((e) =>
      errors.push(e),
    );
    await Snowflake.refreshExternalTable(
      { ...f.settings, accessUrl: otherUsersKey.accessUrl },
      TABLE,
      ["x/"],
      deps(),
    ).catch((e) => errors.push(e));
    f.standIn.failNext("timeout", 3);
    await Snowflake.refreshExternalTable(
      { ...f.settings, statementTimeoutSeconds: 1 },
      TABLE,
      ["y/"],
      deps(),
    ).catch((e) => errors.push(e));
    for (const spy of spies) spy.mockRestore();
    await otherUsersKey.close();

    // Assess
    const keyLines = f.keys.privateKeyPem
      .split("\n")
      .filter((line) => line.length > 0 && !line.startsWith("-----"));
    const said = [
      ...logLines,
      ...errors.flatMap((e) => [String(e), (e as Error).stack ?? "", JSON.stringify(e)]),
    ];
    expect(errors.map((e) => (e as Error).name)).toEqual([
      "SnowflakeAuthError",
      "SnowflakeUnavailable",
    ]);
    expect(logLines.length).toBeGreaterThan(5);
    for (const text of said) {
      expect(text).not.toContain("PRIVATE KEY");
      for (const line of keyLines) expect(text).not.toContain(line);
    }
  });
});
