import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Deploy } from "@switchyard/core";

/** The ledger table: what the control plane did and why. Its model lives in core. */

const epochSeconds = (now: Date, ttl: number) => Math.floor(now.getTime() / 1000) + ttl;
const conditionFailed = (e: unknown) => (e as Error).name === "ConditionalCheckFailedException";

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
    .catch((e: unknown) => {
      if (!conditionFailed(e)) throw e;
    });
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
    .catch((e: unknown) => {
      if (!conditionFailed(e)) throw e;
    });
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
