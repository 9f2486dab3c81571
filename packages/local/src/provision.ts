import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateArchiveCommand,
  PutRuleCommand,
  PutTargetsCommand,
  UpdateArchiveCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { Clients } from "@switchyard/aws";
import type { Topology } from "@switchyard/core";

type TopologyT = Topology.Topology;
type RuleDef = Topology.RuleDef;

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
}

/** What the local runtime created for a topology, keyed by topology id. */
export interface Provisioned {
  account: string;
  region: string;
  busArn: string;
  tables: Record<string, { name: string; arn: string }>;
  queues: Record<string, QueueRef>;
  /** Per rule: the queue that stands in for the rule's target (the real queue for queue targets). */
  ruleTargets: Record<string, QueueRef>;
  rules: Record<string, { name: string; arn: string }>;
  archive: { name: string; arn: string };
  stateMachines: Record<string, { name: string; arn: string }>;
  buckets: string[];
}

/**
 * The queue that stands in for a function or state-machine target locally: EventBridge
 * delivers to it and the dispatcher invokes the handler or starts the execution.
 */
export const localTargetQueueName = (rule: RuleDef): string => `${rule.name}-target`.slice(0, 80);

const isName = (error: unknown, ...names: string[]) => names.includes((error as Error).name);

async function ensureQueue(
  clients: Clients,
  name: string,
  attributes: Record<string, string>,
): Promise<QueueRef> {
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${name} has no ARN`);
  return { name, url: QueueUrl, arn };
}

async function ensureTable(clients: Clients, table: Topology.TableDef) {
  try {
    await clients.dynamo.send(
      new CreateTableCommand({
        TableName: table.name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: table.partitionKey, AttributeType: "S" as const },
          { AttributeName: table.sortKey, AttributeType: "S" as const },
          ...table.indexes.flatMap((i) => [
            { AttributeName: i.partitionKey, AttributeType: "S" as const },
            { AttributeName: i.sortKey, AttributeType: "S" as const },
          ]),
        ].filter(
          (a, idx, all) => all.findIndex((b) => b.AttributeName === a.AttributeName) === idx,
        ),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: "HASH" },
          { AttributeName: table.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: table.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: "HASH" },
            { AttributeName: i.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
    await clients.dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: table.name,
        TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute },
      }),
    );
  } catch (error) {
    if (!isName(error, "ResourceInUseException")) throw error;
  }
  const { Table } = await clients.dynamo.send(new DescribeTableCommand({ TableName: table.name }));
  return { name: table.name, arn: Table?.TableArn ?? "" };
}

/** Creates a bucket as the topology describes it (versioning, EventBridge notifications), if missing. */
export async function ensureBucket(clients: Clients, bucket: Topology.BucketDef) {
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
  } catch (error) {
    if (!isName(error, "BucketAlreadyOwnedByYou", "BucketAlreadyExists")) throw error;
  }
  if (bucket.versioned) {
    await clients.s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket.name,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
  }
  if (bucket.eventBridge === false) return;
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket.name,
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    }),
  );
}

/**
 * Creates the topology in the emulator. Safe to run again: existing resources are kept.
 * Rules get the topology's exact patterns; their targets are SQS queues the dispatcher reads.
 */
export async function provision(topology: TopologyT, clients: Clients): Promise<Provisioned> {
  const region = topology.region;
  const queues: Record<string, QueueRef> = {};
  // DLQs first: source queues' redrive policies point at them.
  for (const q of [...topology.queues].sort(
    (a, b) => Number(b.deadLetter) - Number(a.deadLetter),
  )) {
    const attributes: Record<string, string> = {
      MessageRetentionPeriod: String(q.retentionSeconds),
      // Locally a failed message comes back quickly; AWS uses the topology's full timeout.
      VisibilityTimeout: q.deadLetter ? "30" : "2",
    };
    if (q.redrive) {
      const dlq = queues[q.redrive.deadLetterQueue];
      if (!dlq)
        throw new Error(
          `queue ${q.id}: dead-letter queue ${q.redrive.deadLetterQueue} is not in the topology`,
        );
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: q.redrive.maxReceiveCount,
      });
    }
    queues[q.id] = await ensureQueue(clients, q.name, attributes);
  }
  const anyQueue =
    Object.values(queues)[0] ??
    (await ensureQueue(clients, `${topology.app}-${topology.stage}-probe`, {}));
  const account = anyQueue.arn.split(":")[4] ?? "123456789012";
  const busArn = `arn:aws:events:${region}:${account}:event-bus/default`;

  const tables: Provisioned["tables"] = {};
  for (const t of topology.tables) tables[t.id] = await ensureTable(clients, t);

  for (const b of topology.buckets) await ensureBucket(clients, b);

  const ruleTargets: Provisioned["ruleTargets"] = {};
  const rules: Provisioned["rules"] = {};
  for (const rule of topology.rules) {
    const target =
      rule.target.kind === "queue"
        ? (queues[rule.target.queue] ??
          (() => {
            throw new Error(
              `rule ${rule.id}: queue ${rule.target.kind === "queue" ? rule.target.queue : ""} missing`,
            );
          })())
        : await ensureQueue(clients, localTargetQueueName(rule), { VisibilityTimeout: "2" });
    const dlq = queues[rule.target.deadLetterQueue];
    if (!dlq)
      throw new Error(
        `rule ${rule.id}: dead-letter queue ${rule.target.deadLetterQueue} is not in the topology`,
      );
    const { RuleArn } = await clients.events.send(
      new PutRuleCommand({
        Name: rule.name,
        Description: rule.description,
        EventPattern: JSON.stringify(rule.pattern),
        State: "ENABLED",
      }),
    );
    await clients.events.send(
      new PutTargetsCommand({
        Rule: rule.name,
        Targets: [
          {
            Id: "target",
            Arn: target.arn,
            DeadLetterConfig: { Arn: dlq.arn },
            RetryPolicy: {
              MaximumRetryAttempts: rule.target.maximumRetryAttempts,
              MaximumEventAgeInSeconds: rule.target.maximumEventAgeSeconds,
            },
          },
        ],
      }),
    );
    ruleTargets[rule.id] = target;
    rules[rule.id] = {
      name: rule.name,
      arn: RuleArn ?? `arn:aws:events:${region}:${account}:rule/${rule.name}`,
    };
  }

  // The archive goes last. moto delivers S3 notifications to rules in creation order and
  // stops at an archive's rule, so an archive created first would starve later rules.
  const pattern = JSON.stringify(topology.archive.pattern);
  let archiveArn: string;
  try {
    const created = await clients.events.send(
      new CreateArchiveCommand({
        ArchiveName: topology.archive.name,
        EventSourceArn: busArn,
        EventPattern: pattern,
        RetentionDays: topology.archive.retentionDays,
        Description: `Switchyard ${topology.stage}: events its rules route, for replay`,
      }),
    );
    archiveArn = created.ArchiveArn ?? "";
  } catch (error) {
    if (!isName(error, "ResourceAlreadyExistsException")) throw error;
    const updated = await clients.events.send(
      new UpdateArchiveCommand({
        ArchiveName: topology.archive.name,
        EventPattern: pattern,
        RetentionDays: topology.archive.retentionDays,
      }),
    );
    archiveArn = updated.ArchiveArn ?? "";
  }

  const stateMachines: Provisioned["stateMachines"] = {};
  for (const sm of topology.stateMachines) {
    stateMachines[sm.id] = {
      name: sm.name,
      arn: `arn:aws:states:${region}:${account}:stateMachine:${sm.name}`,
    };
  }

  return {
    account,
    region,
    busArn,
    tables,
    queues,
    ruleTargets,
    rules,
    archive: { name: topology.archive.name, arn: archiveArn },
    stateMachines,
    buckets: topology.buckets.map((b) => b.name),
  };
}
