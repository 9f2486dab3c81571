import { Logger } from "@aws-lambda-powertools/logger";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { clients, Ledger, Snowflake } from "@switchyard/aws";
import { Ingest } from "@switchyard/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { links, queueLink } from "./links";

/**
 * File-drop ingestion (see DESIGN "ingest").
 *
 * `handler`: reads a dataset queue's SQS batch (S3 "Object Created" events routed by the
 * dataset's rule), skips folder markers, keys outside every dataset and object versions already
 * ingested, writes one manifest per dataset batch and starts one execution named after it.
 * Malformed messages go to their dataset's DLQ with the parse error; a batch whose start fails is
 * reported in `batchItemFailures`, so SQS retries exactly those messages.
 *
 * `refresh`: the workflow's last task, `ALTER EXTERNAL TABLE … REFRESH` per partition path.
 */

const logger = new Logger({ serviceName: "switchyard-ingest" });

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  const { datasets, queues } = Ingest.Settings.parse(links().IngestConfig);
  const table = links().Ledger.name;
  const aws = clients();
  const failures = new Set<string>();

  const messages: Ingest.Message[] = [];
  for (const record of event.Records) {
    const parsed = Ingest.parseBody(record.body);
    if ("error" in parsed) {
      try {
        await deadLetter(record, parsed.error);
      } catch (error) {
        logger.error("could not dead-letter a malformed message", {
          messageId: record.messageId,
          error,
        });
        failures.add(record.messageId);
      }
      continue;
    }
    messages.push({ messageId: record.messageId, file: parsed.file });
  }

  const plan = Ingest.plan(datasets, messages);
  const arrivedFor = new Map(event.Records.map((r) => [r.messageId, queues[queueOf(r)]?.dataset]));
  for (const s of plan.skipped) {
    logger.info("skipped", { messageId: s.messageId, reason: s.reason });
    const dataset = Ingest.datasetFor(datasets, s.file)?.name ?? arrivedFor.get(s.messageId);
    await Ledger.recordIngestSkip(aws.doc, table, { ...s, dataset });
  }

  for (const [name, batch] of plan.batches) {
    try {
      await startBatch(batch.dataset, batch.files, table);
    } catch (error) {
      logger.error("batch not started; SQS will retry its messages", { dataset: name, error });
      for (const id of batch.messageIds) failures.add(id);
    }
  }
  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
}

async function startBatch(
  dataset: Ingest.Settings["datasets"][number],
  files: Ingest.FileRef[],
  table: string,
) {
  const aws = clients();
  // The batch is named by all the versions it was offered, so a retry of the same messages is the
  // same batch (and the same execution name), whichever of them it ends up claiming.
  const hash = Ingest.manifestHash(dataset.name, files);
  const claims = await Ledger.claimFiles(aws.doc, table, dataset.name, hash, files);
  const claimed = claims.filter((c) => c.claimed).map((c) => c.file);
  for (const c of claims.filter((x) => !x.claimed)) {
    logger.info("skipped", {
      reason:
        c.state === "CLAIMED"
          ? `being ingested by batch ${c.heldBy}`
          : `already ingested by batch ${c.heldBy}`,
      key: c.file.key,
      versionId: c.file.versionId,
    });
  }
  if (claimed.length === 0) return;

  const manifest = Ingest.manifest(dataset, claimed, hash);
  const bucket = links().Manifests.name;
  const key = Ingest.manifestKey(dataset.name, hash);
  await aws.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(manifest),
      ContentType: "application/json",
    }),
  );
  const name = Ingest.executionName(dataset.name, hash);
  const input: Ingest.WorkflowInput = {
    ledger: { pk: Ingest.keys.dataset(dataset.name), sk: Ingest.keys.batch(hash) },
    dataset: dataset.name,
    batch: hash,
    manifest: `s3://${bucket}/${key}`,
    files: claimed.length,
    table: dataset.snowflake.table,
    partitions: manifest.partitions,
  };
  await Ledger.recordBatch(aws.doc, table, {
    dataset: dataset.name,
    batch: hash,
    files: claimed.length,
    manifest: input.manifest,
    execution: name,
    partitions: manifest.partitions,
  });
  try {
    await aws.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: links().IngestWorkflow.arn,
        name,
        input: JSON.stringify(input),
      }),
    );
    logger.info("batch started", { dataset: dataset.name, files: claimed.length, execution: name });
  } catch (error) {
    if ((error as Error).name !== "ExecutionAlreadyExists") throw error;
  }
  await Ledger.markFilesStarted(aws.doc, table, dataset.name, hash, claimed);
}

/** The queue a record came from, by name. */
const queueOf = (record: SQSRecord): string => record.eventSourceARN.split(":").pop() ?? "";

/** Sends a malformed message to its dataset's DLQ with the error, as the redrive would, but at once. */
async function deadLetter(record: SQSRecord, error: string): Promise<void> {
  const queueName = queueOf(record);
  const { queues } = Ingest.Settings.parse(links().IngestConfig);
  const dlqId = queues[queueName]?.deadLetterQueue;
  const dlq = dlqId ? queueLink(dlqId) : undefined;
  if (!dlq) throw new Error(`no DLQ is linked for queue ${queueName}`);
  await clients().sqs.send(
    new SendMessageCommand({
      QueueUrl: dlq.url,
      MessageBody: record.body,
      MessageAttributes: {
        ErrorCode: { DataType: "String", StringValue: "MalformedEvent" },
        ErrorMessage: { DataType: "String", StringValue: error.slice(0, 1000) },
        Source: { DataType: "String", StringValue: queueName },
      },
    }),
  );
  logger.warn("dead-lettered a malformed message", { messageId: record.messageId, error });
}

/** The workflow's refresh task: one REFRESH per distinct partition path, results to the ledger. */
export async function refresh(payload: unknown) {
  const request = Ingest.RefreshPayload.parse(payload);
  // The link carries SST's `type` next to the connection settings.
  const { type: _type, ...link } = links().Snowflake as Record<string, unknown>;
  const settings = Snowflake.SnowflakeSettings.parse(link);
  const results = await Snowflake.refreshExternalTable(settings, request.table, request.partitions);
  const summary = await Ledger.recordRefresh(
    clients().doc,
    links().Ledger.name,
    request.ledger,
    results,
  );
  logger.info("external table refreshed", { table: request.table, ...summary });
  return summary;
}
