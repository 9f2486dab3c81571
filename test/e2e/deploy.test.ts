import {
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
} from "@aws-sdk/client-ecs";
import {
  DescribeReplayCommand,
  PutEventsCommand,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { Deploy } from "../../packages/core/src";
import { pushImage } from "../../packages/local/src/flows/deploy";
import { type LocalRuntime, startLocal } from "../../packages/local/src/runtime";
import { useEmulator } from "../support/emulator";
import { ecrPush } from "../support/factories";

/**
 * Deploy on image push, end to end: a real-shaped ECR push event goes through the emulator's
 * EventBridge rule to the deploy handler, the ledger's admission, the deploy workflow (run from
 * its ASL) and the emulator's ECS; the rollout itself is simulated by the local runtime.
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

/** PutEvents of an ECR push of `web:<tag>` (pushed to the emulator's ECR first unless given a digest). */
async function push(r: LocalRuntime, tag: string, digest?: string) {
  const d = digest ?? (await pushImage(r.clients.ecr, "web", tag));
  const event = ecrPush({ repository: "web", tag, digest: d, source: "aws.ecr" });
  const out = await r.clients.events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: event.source,
          DetailType: event["detail-type"],
          Detail: JSON.stringify(event.detail),
          Resources: event.resources,
        },
      ],
    }),
  );
  expect(out.FailedEntryCount).toBe(0);
  return d;
}

async function service(r: LocalRuntime) {
  const { services } = await r.clients.ecs.send(
    new DescribeServicesCommand({ cluster: "demo", services: ["web"] }),
  );
  const td = services?.[0]?.taskDefinition ?? "";
  const { taskDefinition } = await r.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: td }),
  );
  const app = taskDefinition?.containerDefinitions?.find((c) => c.name === "app");
  return { taskDefinition: td, revision: taskDefinition?.revision, image: app?.image };
}

async function run(r: LocalRuntime, digest: string) {
  const { Item } = await r.clients.doc.send(
    new GetCommand({
      TableName: r.provisioned.tables.Ledger?.name,
      Key: { pk: Deploy.keys.service("demo", "web"), sk: Deploy.keys.run("web", digest) },
    }),
  );
  return Item;
}

async function revisions(r: LocalRuntime) {
  const { taskDefinitionArns } = await r.clients.ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: "web" }),
  );
  return taskDefinitionArns ?? [];
}

async function skipped(r: LocalRuntime, pk: string) {
  const { Items } = await r.clients.doc.send(
    new QueryCommand({
      TableName: r.provisioned.tables.Ledger?.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :skip)",
      ExpressionAttributeValues: { ":pk": pk, ":skip": "skip#" },
    }),
  );
  return Items ?? [];
}

describe("deploy on image push (e2e)", () => {
  it("pins service web to the pushed digest on a new revision and records COMPLETED", async () => {
    // Prepare
    const r = await start();
    const before = await service(r);

    // Act
    const digest = await push(r, "release-42");
    await r.idle(60_000);

    // Assess
    const after = await service(r);
    expect(after.revision).toBe((before.revision ?? 0) + 1);
    expect(after.image).toBe(`123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${digest}`);
    const record = await run(r, digest);
    expect(record).toMatchObject({
      status: "COMPLETED",
      tag: "release-42",
      revision: after.revision,
      taskDefinitionArn: after.taskDefinition,
      previousTaskDefinitionArn: before.taskDefinition,
    });
    expect(Date.parse(String(record?.finishedAt))).toBeGreaterThanOrEqual(
      Date.parse(String(record?.startedAt)),
    );
  });

  it("records FAILED with the circuit breaker's rollback for an image that cannot start", async () => {
    // Prepare
    const r = await start();
    const before = await service(r);

    // Act
    const digest = await push(r, "release-broken-1");
    await r.idle(60_000);

    // Assess
    const after = await service(r);
    expect(after.taskDefinition).toBe(before.taskDefinition);
    const record = await run(r, digest);
    expect(record).toMatchObject({ status: "FAILED", rolledBackTo: before.taskDefinition });
    expect(record?.reason).toMatch(/circuit breaker/);
  });

  it("takes no action for a tag that matches no pattern, and records the skip", async () => {
    // Prepare
    const r = await start();
    const before = await service(r);

    // Act
    await push(r, "nightly-7");
    await r.idle(60_000);

    // Assess
    expect(await service(r)).toEqual(before);
    expect(await revisions(r)).toHaveLength(1);
    const skips = await skipped(r, Deploy.keys.repository("web"));
    expect(skips).toEqual([
      expect.objectContaining({
        status: "SKIPPED",
        reason: "tag 'nightly-7' matches none of 'release-*'",
      }),
    ]);
  });

  it("keeps the newer image when an older push arrives after it (out of order)", async () => {
    // Prepare: two images, pushed a second apart (ECR orders them by imagePushedAt).
    const r = await start();
    const older = await pushImage(r.clients.ecr, "web", "release-1");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const newer = await pushImage(r.clients.ecr, "web", "release-2");

    // Act: the newer push's event arrives first.
    await push(r, "release-2", newer);
    await r.idle(60_000);
    await push(r, "release-1", older);
    await r.idle(60_000);

    // Assess
    expect((await service(r)).image).toMatch(new RegExp(`@${newer}$`));
    expect(await revisions(r)).toHaveLength(2);
    expect(await run(r, older)).toBeUndefined();
    const skips = await skipped(r, Deploy.keys.service("demo", "web"));
    expect(skips).toEqual([
      expect.objectContaining({ digest: older, reason: expect.stringMatching(/^older image/) }),
    ]);
  });

  it("deploys once when the same push arrives three times", async () => {
    // Prepare
    const r = await start();
    const digest = await pushImage(r.clients.ecr, "web", "release-3");

    // Act: three deliveries of the push (EventBridge delivers at least once; replays repeat it).
    for (let i = 0; i < 3; i++) await push(r, "release-3", digest);
    await r.idle(60_000);

    // Assess
    expect(await revisions(r)).toHaveLength(2);
    expect((await run(r, digest))?.status).toBe("COMPLETED");
    const skips = await skipped(r, Deploy.keys.service("demo", "web"));
    expect(skips).toHaveLength(2);
    for (const s of skips) expect(s.reason).toMatch(/^duplicate/);
  });

  it("records ERROR, and changes nothing, when the configured service no longer exists", async () => {
    // Prepare
    const r = await start();
    await r.clients.ecs.send(
      new DeleteServiceCommand({ cluster: "demo", service: "web", force: true }),
    );

    // Act
    const digest = await push(r, "release-4");
    await r.idle(60_000);

    // Assess
    expect(await revisions(r)).toHaveLength(1);
    const record = await run(r, digest);
    expect(record?.status).toBe("ERROR");
    expect(record?.reason).toMatch(
      /^ServiceNotFound: ECS service web is not an ACTIVE service of cluster demo/,
    );
  });

  it("repeats nothing when the archive is replayed", async () => {
    // Prepare: one deploy, done; the push event sits in the archive.
    const r = await start();
    const from = new Date(Date.now() - 60_000);
    const digest = await push(r, "release-10");
    await r.idle(60_000);
    const deployed = await service(r);

    // Act
    await r.clients.events.send(
      new StartReplayCommand({
        ReplayName: "deploy-replay",
        EventSourceArn: r.provisioned.archive.arn,
        EventStartTime: from,
        EventEndTime: new Date(Date.now() + 1000),
        Destination: {
          Arn: r.provisioned.busArn,
          FilterArns: [r.provisioned.rules.DeployImagePushed?.arn ?? ""],
        },
      }),
    );
    for (let i = 0; i < 100; i++) {
      const replay = await r.clients.events.send(
        new DescribeReplayCommand({ ReplayName: "deploy-replay" }),
      );
      if (replay.State === "COMPLETED") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (
      let i = 0;
      i < 100 && (await skipped(r, Deploy.keys.service("demo", "web"))).length === 0;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 100));
    await r.idle(60_000);

    // Assess
    expect(await service(r)).toEqual(deployed);
    expect(await revisions(r)).toHaveLength(2);
    expect((await run(r, digest))?.status).toBe("COMPLETED");
    expect(await skipped(r, Deploy.keys.service("demo", "web"))).toEqual([
      expect.objectContaining({ digest, reason: expect.stringMatching(/^duplicate/) }),
    ]);
  });

  it("dead-letters a malformed push with the original event and the error", async () => {
    // Prepare: a successful push without its digest.
    const r = await start();
    const event = ecrPush({ repository: "web", tag: "release-11", source: "aws.ecr" });
    const { "image-digest": _digest, ...detail } = event.detail;

    // Act
    await r.clients.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: event.source,
            DetailType: event["detail-type"],
            Detail: JSON.stringify(detail),
            Resources: [],
          },
        ],
      }),
    );
    await r.idle(60_000);

    // Assess
    const { Messages = [] } = await r.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: r.provisioned.queues.DeployDlq?.url,
        MessageAttributeNames: ["All"],
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? "{}")).toMatchObject({
      detail: { "image-tag": "release-11" },
    });
    expect(Messages[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(
      /^not an ECR Image Action event \(detail\.image-digest: a successful PUSH must carry the image digest\)/,
    );
    expect(await revisions(r)).toHaveLength(1);
  });
});
