import { CreateBucketCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Ingest, Topology } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { handler } from "../../functions/ingest";
import { Ledger } from "../../packages/aws/src";
import { applyResourceEnv } from "../../packages/local/src/resources";
import switchyardConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";
import { objectCreated, sqsEventOf } from "../support/factories";
import { createLedgerTable } from "../support/ledger";

/**
 * The ingest handler and the ledger's file claims against the emulator: malformed messages go to
 * the dataset's DLQ with their error, messages that cause no action are recorded as skips, and an
 * object version is claimed by one batch only.
 */
const { clients } = useEmulator();
const TABLE = "ledger";
const config = Config.load(switchyardConfig, "local");
const topology = Topology.build(config);
const queueName = Topology.queue(topology, "IngestOrdersQueue").name;

async function prepare() {
  const c = clients();
  await createLedgerTable(c, TABLE);
  await c.s3.send(new CreateBucketCommand({ Bucket: "manifests" }));
  const { QueueUrl: dlqUrl = "" } = await c.sqs.send(
    new CreateQueueCommand({ QueueName: "orders-dlq" }),
  );
  const { QueueUrl: sourceUrl = "" } = await c.sqs.send(
    new CreateQueueCommand({ QueueName: queueName }),
  );
  const { Attributes } = await c.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ["QueueArn"] }),
  );
  const setting = topology.settings.find((s) => s.id === "IngestConfig");
  applyResourceEnv({
    Ledger: { name: TABLE },
    Manifests: { name: "manifests" },
    IngestWorkflow: {
      name: "ingest",
      arn: "arn:aws:states:us-east-1:123456789012:stateMachine:ingest",
    },
    IngestConfig: setting?.value ?? {},
    IngestOrdersDlq: { url: dlqUrl },
  });
  return { dlqUrl, sourceArn: Attributes?.QueueArn ?? "" };
}

const skips = async () =>
  (
    await clients().doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :s)",
        ExpressionAttributeValues: { ":pk": Ingest.keys.dataset("orders"), ":s": "skip#" },
      }),
    )
  ).Items ?? [];

describe("ingest handler: bad input and skips", () => {
  it("dead-letters a malformed message to its dataset's DLQ with the error, and fails nothing else", async () => {
    // Prepare
    const { dlqUrl, sourceArn } = await prepare();
    const event = sqsEventOf(['{"detail-type":"Object Created","detail":{}}'], {
      queueArn: sourceArn,
    });

    // Act
    const result = await handler(event);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const { Messages = [] } = await clients().sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ["All"] }),
    );
    expect(Messages.map((m) => m.Body)).toEqual(['{"detail-type":"Object Created","detail":{}}']);
    expect(Messages[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(
      /^not an S3 Object Created event \(/,
    );
  });

  it.each([
    { name: "a folder marker", key: "orders/2026/11/", size: 0, reason: /^folder marker/ },
    {
      name: "a key of another dataset's suffix",
      key: "orders/2026/11/a.json",
      size: 5,
      reason: /outside every dataset/,
    },
  ])("records $name as a skip and starts nothing", async ({ key, size, reason }) => {
    // Prepare
    const { sourceArn } = await prepare();
    const body = JSON.stringify(objectCreated({ bucket: "demo-raw", key, size, versionId: "v1" }));

    // Act
    const result = await handler(sqsEventOf([body], { queueArn: sourceArn }));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const recorded = await skips();
    expect(recorded.map((s) => s.reason)).toEqual([expect.stringMatching(reason)]);
  });

  it("reports the whole batch as failed when its execution cannot start, so SQS retries it", async () => {
    // Prepare: the state machine does not exist (no local Step Functions here).
    const { sourceArn } = await prepare();
    const body = JSON.stringify(
      objectCreated({ bucket: "demo-raw", key: "orders/a.csv", versionId: "v1" }),
    );
    const event = sqsEventOf([body], { queueArn: sourceArn });

    // Act
    const result = await handler(event);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
  });
});

describe("Ledger.claimFiles (DynamoDB conditional writes in the emulator)", () => {
  const a: Ingest.FileRef = { bucket: "demo-raw", key: "orders/a.csv", size: 1, versionId: "v1" };
  const b: Ingest.FileRef = { bucket: "demo-raw", key: "orders/b.csv", size: 1, versionId: "v1" };

  it.each([
    {
      name: "a retry of the same batch re-claims its files",
      second: "h1",
      started: false,
      claimed: [true, true],
    },
    {
      name: "another batch cannot take files a live batch claimed",
      second: "h2",
      started: false,
      claimed: [false, true],
    },
    {
      name: "no batch takes files already started",
      second: "h1",
      started: true,
      claimed: [false, true],
    },
  ])("$name", async ({ second, started, claimed }) => {
    // Prepare
    await createLedgerTable(clients(), TABLE);
    const doc = clients().doc;
    await Ledger.claimFiles(doc, TABLE, "orders", "h1", [a]);
    if (started) await Ledger.markFilesStarted(doc, TABLE, "orders", "h1", [a]);

    // Act
    const claims = await Ledger.claimFiles(doc, TABLE, "orders", second, [a, b]);

    // Assess
    expect(claims.map((c) => c.claimed)).toEqual(claimed);
    if (!claims[0]?.claimed) expect(claims[0]?.heldBy).toBe("h1");
  });

  it("lets a stale claim be taken over (its handler died before starting the batch)", async () => {
    // Prepare
    await createLedgerTable(clients(), TABLE);
    const doc = clients().doc;
    const longAgo = new Date(Date.now() - (Ingest.STALE_CLAIM_SECONDS + 60) * 1000);
    await Ledger.claimFiles(doc, TABLE, "orders", "h1", [a], longAgo);

    // Act
    const [claim] = await Ledger.claimFiles(doc, TABLE, "orders", "h2", [a]);

    // Assess
    expect(claim?.claimed).toBe(true);
  });
});
