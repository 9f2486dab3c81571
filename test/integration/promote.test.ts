import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateStateMachineCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Promote } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { Promote as PromoteAws } from "../../packages/aws/src";
import switchyardConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";
import { objectCreated } from "../support/factories";
import { prepareArtifact } from "../support/promote";

/**
 * The promote flow's Admit step against the emulator (S3, CloudWatch, DynamoDB, Lambda): each
 * kind of bad or late upload ends as a recorded skip or failure with its reason, and one
 * promotion per alias runs at a time (supersede or queue).
 */
const { clients } = useEmulator();
const TABLE = "ledger";
const api = Config.load(switchyardConfig, "local").promotions[0] as Config.Promotion;
const ME = "arn:aws:states:us-east-1:123456789012:execution:switchyard-local-promote:me";
const PK = Promote.keys.alias("api", "live");

async function prepare(versioned = true) {
  const c = clients();
  return { c, ...(await prepareArtifact(c, TABLE, api, { versioned })) };
}

const admit = (event: unknown, promotion: Config.Promotion = api, execution = ME) =>
  PromoteAws.admit(clients(), TABLE, { promotions: [promotion] }, { event, execution });

const recorded = async () =>
  (
    await clients().doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": PK },
      }),
    )
  ).Items ?? [];

describe("Promote admission (emulator)", () => {
  it("admits a new upload: a run row, the alias lock, and the plan for the workflow", async () => {
    // Prepare
    const { key, versionId } = await prepare();
    // Act
    const got = await admit(objectCreated({ bucket: api.bucket, key, versionId }));
    // Assess
    expect(got).toMatchObject({
      action: "run",
      function: "api",
      alias: "live",
      versionId,
      steps: [{ percent: 10, weight: 0.1, bakeSeconds: 3, final: false }],
    });
    const lock = await clients().doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: PK, sk: "lock" } }),
    );
    expect(lock.Item).toMatchObject({ holder: ME });
  });

  it.each([
    {
      name: "an upload to an unversioned bucket",
      setup: async () => {
        const { key } = await prepare(false);
        return objectCreated({ bucket: api.bucket, key });
      },
      status: "FAILED",
      reason: /has no version id: turn on versioning for bucket demo-artifacts/,
    },
    {
      name: "an object version deleted after the upload",
      setup: async () => {
        const { c, key, versionId } = await prepare();
        await c.s3.send(
          new DeleteObjectCommand({ Bucket: api.bucket, Key: key, VersionId: versionId }),
        );
        return objectCreated({ bucket: api.bucket, key, versionId });
      },
      status: "FAILED",
      reason: /no longer exists \(deleted after the upload\?\); upload the build again/,
    },
    {
      name: "an upload older than the newest admitted one",
      setup: async () => {
        const { c, key, versionId } = await prepare();
        await c.doc.send(
          new PutCommand({
            TableName: TABLE,
            Item: { pk: PK, sk: "lock", uploadedAt: "2026-11-24T12:00:00Z" },
          }),
        );
        return objectCreated({ bucket: api.bucket, key, versionId, time: "2026-11-24T11:00:00Z" });
      },
      status: "SKIPPED",
      reason: /older build: .*never regress/,
    },
  ])("records $name with the reason, and runs nothing", async ({ setup, status, reason }) => {
    // Prepare
    const event = await setup();
    // Act
    const got = await admit(event);
    // Assess
    expect(got.action).toBe("skip");
    const rows = (await recorded()).filter((r) => r.flow === "promote");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status });
    expect(String(rows[0]?.reason)).toMatch(reason);
  });

  it("rejects a malformed event as a recorded skip naming the fields", async () => {
    // Prepare
    await prepare();
    // Act
    const got = await admit({ "detail-type": "Object Created", detail: {} });
    // Assess
    expect(got).toMatchObject({
      action: "skip",
      reason: expect.stringMatching(/not an S3 Object Created event/),
    });
    const { Items = [] } = await clients().doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": Promote.keys.unrouted },
      }),
    );
    expect(Items).toHaveLength(1);
  });

  /** An execution of a state machine in the emulator's Step Functions (moto keeps it RUNNING until stopped). */
  async function execution(stopped = false) {
    const c = clients();
    const { stateMachineArn } = await c.sfn.send(
      new CreateStateMachineCommand({
        name: "switchyard-local-promote",
        definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
        roleArn: "arn:aws:iam::123456789012:role/sfn",
      }),
    );
    const { executionArn = "" } = await c.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: "other", input: "{}" }),
    );
    if (stopped) await c.sfn.send(new StopExecutionCommand({ executionArn }));
    return executionArn;
  }

  it.each([
    { policy: "queue" as const, action: "wait" },
    { policy: "supersede" as const, action: "run" },
  ])(
    "onConcurrent: $policy while another running execution holds the alias → $action",
    async ({ policy, action }) => {
      // Prepare
      const { c, key, versionId } = await prepare();
      const other = await execution();
      await c.doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            pk: PK,
            sk: "lock",
            holder: other,
            run: "run#other",
            uploadedAt: "2026-01-01T00:00:00Z",
          },
        }),
      );
      // Act
      const got = await admit(objectCreated({ bucket: api.bucket, key, versionId }), {
        ...api,
        onConcurrent: policy,
      });
      // Assess
      expect(got.action).toBe(action);
      if (policy === "supersede")
        expect(got).toMatchObject({ takeover: { execution: other, running: true } });
      const lock = await c.doc.send(
        new GetCommand({ TableName: TABLE, Key: { pk: PK, sk: "lock" } }),
      );
      expect(lock.Item?.holder).toBe(policy === "queue" ? other : ME);
    },
  );

  it("takes over a lock whose execution is no longer running (stale), without stopping anything", async () => {
    // Prepare
    const { c, key, versionId } = await prepare();
    const other = await execution(true);
    await c.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: PK, sk: "lock", holder: other, run: "run#other" },
      }),
    );
    // Act
    const got = await admit(objectCreated({ bucket: api.bucket, key, versionId }));
    // Assess
    expect(got).toMatchObject({ action: "run", takeover: { execution: other, running: false } });
  });
});
