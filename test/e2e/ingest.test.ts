import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetJobRunsCommand } from "@aws-sdk/client-glue";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Events, Ingest } from "@switchyard/core";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalRuntime, startLocal } from "../../packages/local/src/runtime";
import type { SnowflakeStandIn } from "../../packages/local/src/snowflake";
import { useEmulator } from "../support/emulator";

/**
 * File-drop ingestion end to end: PutObject into the emulator's S3 → S3's own EventBridge event →
 * the dataset rule → SQS → the ingest handler (batch, manifest, execution) → the ingest workflow
 * (Glue jobs in moto, in order, with the manifest) → the refresh function → the Snowflake
 * stand-in (the real snowflake-sdk, JWT auth) → the ledger.
 */
const { endpoint } = useEmulator();

let rt: LocalRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

const start = async () => {
  rt = await startLocal({ endpoint, stage: "local", stateFile: false, timeScale: 0.01 });
  return rt;
};
const snowflake = (r: LocalRuntime) => r.services.snowflake as SnowflakeStandIn;

const put = (r: LocalRuntime, key: string, body = "id,total\n1,9.99\n") =>
  r.clients.s3.send(new PutObjectCommand({ Bucket: "demo-raw", Key: key, Body: body }));

async function ledger(r: LocalRuntime, prefix: string) {
  const { Items = [] } = await r.clients.doc.send(
    new QueryCommand({
      TableName: r.provisioned.tables.Ledger?.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":pk": Ingest.keys.dataset("orders"), ":p": prefix },
    }),
  );
  return Items;
}

async function runs(r: LocalRuntime, job: string) {
  const { JobRuns = [] } = await r.clients.glue.send(new GetJobRunsCommand({ JobName: job }));
  return JobRuns;
}

async function manifestOf(r: LocalRuntime, uri: string) {
  const [, bucket = "", key = ""] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
  const object = await r.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await (object.Body?.transformToString() ?? "{}")) as Ingest.Manifest;
}

/** Drops files, then waits until their batch (or batches) settle. */
async function drop(r: LocalRuntime, keys: string[]) {
  for (const key of keys) await put(r, key);
  await r.idle(60_000);
}

describe("file-drop ingestion (e2e)", () => {
  it("batches 3 files, runs orders-clean then orders-curate with the manifest, refreshes each path once", async () => {
    // Prepare
    const r = await start();
    const keys = ["orders/2026/11/23/a.csv", "orders/2026/11/23/b.csv", "orders/2026/11/24/c.csv"];

    // Act
    await drop(r, keys);

    // Assess
    const batches = await ledger(r, "batch#");
    expect(batches).toHaveLength(1);
    const batch = batches[0] ?? {};
    expect(batch).toMatchObject({ status: "INGESTED", files: 3 });
    const manifest = await manifestOf(r, String(batch.manifest));
    expect(manifest.files.map((f) => f.key)).toEqual(keys);
    expect(manifest.partitions).toEqual(["orders/2026/11/23/", "orders/2026/11/24/"]);
    const clean = await runs(r, "orders-clean");
    const curate = await runs(r, "orders-curate");
    expect(clean).toHaveLength(1);
    expect(curate).toHaveLength(1);
    expect(clean[0]?.Arguments?.["--manifest"]).toBe(batch.manifest);
    expect(curate[0]?.Arguments?.["--manifest"]).toBe(batch.manifest);
    expect(Number(curate[0]?.StartedOn)).toBeGreaterThanOrEqual(Number(clean[0]?.CompletedOn));
    expect(batch.glueRuns).toEqual({
      "orders-clean": clean[0]?.Id,
      "orders-curate": curate[0]?.Id,
    });
    const refreshes = snowflake(r).statements.filter((s) => /REFRESH/.test(s));
    expect(refreshes).toEqual([
      "ALTER EXTERNAL TABLE ANALYTICS.RAW.ORDERS_EXT REFRESH 'orders/2026/11/23/'",
      "ALTER EXTERNAL TABLE ANALYTICS.RAW.ORDERS_EXT REFRESH 'orders/2026/11/24/'",
    ]);
    expect(batch.refresh).toEqual({
      statements: 2,
      registeredNew: 3,
      registeredUpdate: 0,
      unregistered: 0,
    });
  });

  it("ingests nothing twice: a duplicate delivery of the same object version is skipped", async () => {
    // Prepare
    const r = await start();
    const { VersionId } = await put(r, "orders/2026/11/23/a.csv");
    await r.idle(60_000);

    // Act: the same event again (as a replay or a duplicate delivery would bring it).
    await r.clients.events.send(
      new PutEventsCommand({
        Entries: [
          Events.Simulate.objectCreated({
            bucket: "demo-raw",
            key: "orders/2026/11/23/a.csv",
            size: 17,
            versionId: VersionId,
          }),
        ],
      }),
    );
    await r.idle(60_000);

    // Assess
    expect(await ledger(r, "batch#")).toHaveLength(1);
    expect(await runs(r, "orders-clean")).toHaveLength(1);
  });

  it("ingests an overwritten key again: a new version is a new file", async () => {
    // Prepare
    const r = await start();
    await drop(r, ["orders/2026/11/23/a.csv"]);

    // Act
    await put(r, "orders/2026/11/23/a.csv", "id,total\n1,10.99\n");
    await r.idle(60_000);

    // Assess
    const batches = await ledger(r, "batch#");
    expect(batches.map((b) => b.status)).toEqual(["INGESTED", "INGESTED"]);
    expect(await runs(r, "orders-clean")).toHaveLength(2);
    expect(batches.map((b) => b.refresh)).toContainEqual(
      expect.objectContaining({ registeredUpdate: 1 }),
    );
  });

  it("carries keys with spaces, ':', '+', '=' and unicode through unchanged", async () => {
    // Prepare
    const r = await start();
    const key = "orders/region=eu west/2026-11-23T10:00+01:00/bestellung für Jürgen.csv";

    // Act
    await drop(r, [key]);

    // Assess
    const [batch] = await ledger(r, "batch#");
    expect(batch?.status).toBe("INGESTED");
    const manifest = await manifestOf(r, String(batch?.manifest));
    expect(manifest.files.map((f) => f.key)).toEqual([key]);
    expect(snowflake(r).statements.filter((s) => /REFRESH/.test(s))).toEqual([
      "ALTER EXTERNAL TABLE ANALYTICS.RAW.ORDERS_EXT REFRESH 'orders/region=eu west/2026-11-23T10:00+01:00/'",
    ]);
    expect(batch?.refresh).toMatchObject({ registeredNew: 1 });
  });

  it("records REFRESH_FAILED when Snowflake refuses the key", async () => {
    // Prepare
    const r = await start();
    snowflake(r).failNext("auth", 10);

    // Act
    await drop(r, ["orders/2026/11/23/a.csv"]);

    // Assess
    const [batch] = await ledger(r, "batch#");
    expect(batch?.status).toBe("REFRESH_FAILED");
    expect(batch?.reason).toMatch(/^SnowflakeAuthError: /);
    expect(await runs(r, "orders-curate")).toHaveLength(1);
  });

  it("retries a transient Snowflake error and completes", async () => {
    // Prepare
    const r = await start();
    snowflake(r).failNext("5xx", 1);

    // Act
    await drop(r, ["orders/2026/11/23/a.csv"]);

    // Assess
    const [batch] = await ledger(r, "batch#");
    expect(batch?.status).toBe("INGESTED");
    expect(batch?.refresh).toMatchObject({ registeredNew: 1 });
  });
});
