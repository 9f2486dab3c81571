import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Deploy, Ingest } from "@switchyard/core";
import { pool } from "./pool";

/** The ledger table: what the control plane did and why. Its model lives in core. */

export const epochSeconds = (now: Date, ttl: number) => Math.floor(now.getTime() / 1000) + ttl;
export const conditionFailed = (e: unknown) =>
  (e as Error).name === "ConditionalCheckFailedException";
/** For writes whose condition failing means "already done": rethrows anything else. */
const unlessConditionFailed = (e: unknown): void => {
  if (!conditionFailed(e)) throw e;
};

export interface DeployCandidate {
  cluster: string;
  service: string;
  repository: string;
  tag: string;
  digest: string;
  pushedAt: Date;
  execution: string;
}

/**
 * Admits a deploy with one conditional write on the service's `head` item: only an image newer
 * than the recorded one, or the recorded one itself while its execution has not started yet.
 * Returns why not otherwise (from the item that made the write fail).
 */
export async function admitDeploy(
  doc: DynamoDBDocumentClient,
  table: string,
  c: DeployCandidate,
  now = new Date(),
): Promise<Deploy.Admission> {
  const orderKey = Deploy.orderKey(c.pushedAt, c.digest);
  const pk = Deploy.keys.service(c.cluster, c.service);
  let resumed = false;
  try {
    const { Attributes } = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk, sk: Deploy.keys.head },
        ReturnValues: "ALL_OLD",
        UpdateExpression:
          "SET orderKey = :k, digest = :d, repository = :r, tag = :t, #state = :admitted, execution = :x, admittedAt = :now",
        ConditionExpression:
          "attribute_not_exists(pk) OR orderKey < :k OR (orderKey = :k AND #state = :admitted)",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":k": orderKey,
          ":d": c.digest,
          ":r": c.repository,
          ":t": c.tag,
          ":x": c.execution,
          ":admitted": "ADMITTED",
          ":now": now.toISOString(),
        },
      }),
    );
    resumed = Attributes?.orderKey === orderKey;
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk, sk: Deploy.keys.head }, ConsistentRead: true }),
    );
    const head = Deploy.Head.safeParse(Item);
    const decision = Deploy.admit(head.success ? head.data : undefined, {
      orderKey,
      digest: c.digest,
    });
    // The write lost a race the read no longer shows: report it as a duplicate, never admit.
    return decision.admit
      ? {
          admit: false,
          duplicate: true,
          reason: "a concurrent delivery admitted this service first",
        }
      : decision;
  }
  // First admission writes the run record; a resumed one keeps whatever progress it has.
  await doc
    .send(
      new PutCommand({
        TableName: table,
        Item: {
          pk,
          sk: Deploy.keys.run(c.repository, c.digest),
          flow: Deploy.FLOW,
          at: now.toISOString(),
          status: "STARTING" satisfies Deploy.Status,
          repository: c.repository,
          tag: c.tag,
          digest: c.digest,
          pushedAt: c.pushedAt.toISOString(),
          cluster: c.cluster,
          service: c.service,
          execution: c.execution,
          expiresAt: epochSeconds(now, Deploy.RETENTION_SECONDS.run),
        },
        ConditionExpression: "attribute_not_exists(sk)",
      }),
    )
    .catch(unlessConditionFailed);
  return { admit: true, resumed };
}

/** Marks the head's execution as started, unless a newer image was admitted meanwhile. */
export async function markDeployStarted(
  doc: DynamoDBDocumentClient,
  table: string,
  c: Pick<DeployCandidate, "cluster" | "service" | "pushedAt" | "digest">,
): Promise<void> {
  await doc
    .send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: Deploy.keys.service(c.cluster, c.service), sk: Deploy.keys.head },
        UpdateExpression: "SET #state = :started",
        ConditionExpression: "orderKey = :k",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":k": Deploy.orderKey(c.pushedAt, c.digest),
          ":started": "STARTED",
        },
      }),
    )
    .catch(unlessConditionFailed);
}

export interface DeploySkip {
  eventId: string;
  reason: string;
  repository: string;
  tag?: string;
  digest?: string;
  cluster?: string;
  service?: string;
}

/** Records an event that caused no action, with its reason (idempotent per event and service). */
export async function recordDeploySkip(
  doc: DynamoDBDocumentClient,
  table: string,
  s: DeploySkip,
  now = new Date(),
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk:
          s.cluster && s.service
            ? Deploy.keys.service(s.cluster, s.service)
            : Deploy.keys.repository(s.repository),
        sk: Deploy.keys.skip(s.eventId),
        flow: Deploy.FLOW,
        at: now.toISOString(),
        status: "SKIPPED" satisfies Deploy.Status,
        reason: s.reason,
        repository: s.repository,
        tag: s.tag,
        digest: s.digest,
        cluster: s.cluster,
        service: s.service,
        expiresAt: epochSeconds(now, Deploy.RETENTION_SECONDS.skip),
      },
    }),
  );
}

/** The newest ledger rows of a flow (byFlow index), newest first, following pages up to `limit`. */
export async function listFlow(
  doc: DynamoDBDocumentClient,
  table: string,
  flow: string,
  limit = 50,
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: table,
        IndexName: "byFlow",
        KeyConditionExpression: "flow = :f",
        ExpressionAttributeValues: { ":f": flow },
        ScanIndexForward: false,
        Limit: Math.min(100, limit - rows.length),
        ExclusiveStartKey: start,
      }),
    );
    rows.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && rows.length < limit);
  return rows;
}

// ---------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------

export interface FileClaim {
  file: Ingest.FileRef;
  claimed: boolean;
  /** When not claimed: the batch that has it. */
  heldBy?: string;
  state?: string;
}

/**
 * Claims each object version for `batch` with one conditional write per file: a version never
 * seen, or one claimed by this same batch (a retry), or a claim gone stale (its handler died
 * before starting the batch). Versions already started by a batch are not claimed again, so
 * duplicate deliveries and replays ingest nothing twice.
 */
export async function claimFiles(
  doc: DynamoDBDocumentClient,
  table: string,
  dataset: string,
  batch: string,
  files: readonly Ingest.FileRef[],
  now = new Date(),
): Promise<FileClaim[]> {
  const stale = new Date(now.getTime() - Ingest.STALE_CLAIM_SECONDS * 1000).toISOString();
  return pool(files, 16, async (file) => {
    const key = { pk: Ingest.keys.dataset(dataset), sk: Ingest.keys.file(Ingest.fileId(file)) };
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...key,
            state: "CLAIMED",
            batch,
            claimedAt: now.toISOString(),
            bucket: file.bucket,
            key: file.key,
            versionId: file.versionId,
            expiresAt: epochSeconds(now, Ingest.RETENTION_SECONDS.file),
          },
          ConditionExpression:
            "attribute_not_exists(sk) OR (#state = :claimed AND (#batch = :batch OR claimedAt < :stale))",
          ExpressionAttributeNames: { "#state": "state", "#batch": "batch" },
          ExpressionAttributeValues: { ":claimed": "CLAIMED", ":batch": batch, ":stale": stale },
        }),
      );
      return { file, claimed: true };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      const { Item } = await doc.send(
        new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
      );
      return {
        file,
        claimed: false,
        heldBy: Item?.batch as string | undefined,
        state: Item?.state as string | undefined,
      };
    }
  });
}

/** Marks claimed files as started by their batch (after StartExecution succeeded). */
export async function markFilesStarted(
  doc: DynamoDBDocumentClient,
  table: string,
  dataset: string,
  batch: string,
  files: readonly Ingest.FileRef[],
): Promise<void> {
  await pool(files, 16, (file) =>
    doc
      .send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: Ingest.keys.dataset(dataset), sk: Ingest.keys.file(Ingest.fileId(file)) },
          UpdateExpression: "SET #state = :started",
          ConditionExpression: "#batch = :batch",
          ExpressionAttributeNames: { "#state": "state", "#batch": "batch" },
          ExpressionAttributeValues: { ":started": "STARTED", ":batch": batch },
        }),
      )
      .catch(unlessConditionFailed),
  );
}

/** Records a batch when its execution starts (idempotent: a retry keeps the first record). */
export async function recordBatch(
  doc: DynamoDBDocumentClient,
  table: string,
  b: {
    dataset: string;
    batch: string;
    files: number;
    manifest: string;
    execution: string;
    partitions: string[];
  },
  now = new Date(),
): Promise<void> {
  await doc
    .send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: Ingest.keys.dataset(b.dataset),
          sk: Ingest.keys.batch(b.batch),
          flow: Ingest.FLOW,
          at: now.toISOString(),
          status: "STARTED" satisfies Ingest.Status,
          dataset: b.dataset,
          files: b.files,
          manifest: b.manifest,
          execution: b.execution,
          partitions: b.partitions,
          expiresAt: epochSeconds(now, Ingest.RETENTION_SECONDS.batch),
        },
        ConditionExpression: "attribute_not_exists(sk)",
      }),
    )
    .catch(unlessConditionFailed);
}

/** Records a message that caused no action, with the reason (idempotent per message). */
export async function recordIngestSkip(
  doc: DynamoDBDocumentClient,
  table: string,
  s: { messageId: string; reason: string; dataset?: string; file?: Ingest.FileRef },
  now = new Date(),
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: s.dataset ? Ingest.keys.dataset(s.dataset) : Ingest.keys.unrouted,
        sk: Ingest.keys.skip(s.messageId),
        flow: Ingest.FLOW,
        at: now.toISOString(),
        status: "SKIPPED" satisfies Ingest.Status,
        dataset: s.dataset,
        reason: s.reason,
        key: s.file ? `s3://${s.file.bucket}/${s.file.key}` : undefined,
        expiresAt: epochSeconds(now, Ingest.RETENTION_SECONDS.skip),
      },
    }),
  );
}

/** Writes what Snowflake registered for a batch: counts, and the rows (capped) for the record. */
export async function recordRefresh(
  doc: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  results: readonly { path: string; rows: readonly { file: string; status: string }[] }[],
): Promise<Record<string, number>> {
  const rows = results.flatMap((r) => r.rows);
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  const summary = {
    statements: results.length,
    registeredNew: count("REGISTERED_NEW"),
    registeredUpdate: count("REGISTERED_UPDATE"),
    unregistered: count("UNREGISTERED"),
  };
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: "SET refresh = :summary, refreshRows = :rows",
      ExpressionAttributeValues: {
        ":summary": summary,
        // DynamoDB items hold 400 KB: keep the first 1000 rows; the counts cover them all.
        ":rows": rows.slice(0, 1000).map((r) => ({ file: r.file, status: r.status })),
      },
    }),
  );
  return summary;
}
