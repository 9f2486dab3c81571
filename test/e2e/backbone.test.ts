import {
  DescribeReplayCommand,
  PutEventsCommand,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { EventBridgeEvent, SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { Events } from "../../packages/core/src";
import type { DispatchRecord } from "../../packages/local/src/dispatcher";
import { type LocalRuntime, startLocal } from "../../packages/local/src/runtime";
import { useEmulator } from "../support/emulator";

/**
 * The local runtime's backbone, end to end through the emulator's real EventBridge:
 * event in → rule → queue → dispatcher → handler, dead letters, and archive replay.
 * Handlers here are recorders; the flows' real handlers have their own e2e tests.
 */
const { endpoint } = useEmulator();

let rt: LocalRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

type Call = { event: unknown; functionName: string };

async function start(handlers: Record<string, (event: unknown) => Promise<unknown>>) {
  const calls: Call[] = [];
  const wrapped = Object.fromEntries(
    Object.entries(handlers).map(([id, fn]) => [
      id,
      async (event: unknown, context: { functionName: string }) => {
        calls.push({ event, functionName: context.functionName });
        return fn(event);
      },
    ]),
  );
  rt = await startLocal({ endpoint, stage: "local", handlers: wrapped, stateFile: false });
  const dispatched: DispatchRecord[] = [];
  rt.dispatcher.on("dispatch", (r) => dispatched.push(r));
  return { rt, calls, dispatched };
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ecrEntry = (tag: string) =>
  Events.Simulate.ecrPush({ repository: "web", tag, region: "us-east-1", account: "123456789012" });

describe("local runtime backbone", () => {
  it("delivers a PutEvents ECR push through the real rule to the deploy handler, as Lambda would", async () => {
    // Prepare
    const { rt, calls, dispatched } = await start({ DeployHandler: async () => ({ ok: true }) });
    // Act
    await rt.clients.events.send(new PutEventsCommand({ Entries: [ecrEntry("release-7")] }));
    const record = await until("dispatch", () =>
      dispatched.find((d) => d.source === "DeployImagePushed"),
    );
    // Assess
    expect(record.outcome).toBe("done");
    expect(calls).toHaveLength(1);
    const event = calls[0]?.event as EventBridgeEvent<"ECR Image Action", Record<string, string>>;
    expect(event["detail-type"]).toBe("ECR Image Action");
    expect(event.source).toBe("switchyard.simulated");
    expect(event.detail["repository-name"]).toBe("web");
    expect(event.detail["image-tag"]).toBe("release-7");
    expect(event.id).toMatch(/[0-9a-f-]{36}/);
    expect(calls[0]?.functionName).toBe("DeployHandler");
  });

  it("turns an S3 PutObject into an SQS batch for the ingest handler, with the raw key", async () => {
    // Prepare
    const { rt, calls, dispatched } = await start({
      IngestHandler: async () => ({ batchItemFailures: [] }),
    });
    const key = "orders/2026/11/23/north east: a+b=c é.csv";
    // Act
    await rt.clients.s3.send(
      new PutObjectCommand({ Bucket: "demo-raw", Key: key, Body: "id,total\n1,2\n" }),
    );
    await rt.clients.s3.send(
      new PutObjectCommand({ Bucket: "demo-raw", Key: "elsewhere/x.csv", Body: "x" }),
    );
    await until("dispatch", () => dispatched.find((d) => d.target === "IngestHandler"));
    await rt.dispatcher.idle();
    // Assess
    const records = calls.flatMap((c) => (c.event as SQSEvent).Records);
    expect(records).toHaveLength(1);
    expect(records[0]?.eventSource).toBe("aws:sqs");
    expect(records[0]?.eventSourceARN).toBe(rt.provisioned.queues.IngestOrdersQueue?.arn);
    const body = JSON.parse(records[0]?.body ?? "{}") as EventBridgeEvent<
      "Object Created",
      { bucket: { name: string }; object: { key: string } }
    >;
    expect(body.source).toBe("aws.s3");
    expect(body.detail.bucket.name).toBe("demo-raw");
    expect(body.detail.object.key).toBe(key);
  });

  it("dead-letters an event whose handler keeps failing, with the original payload and the error", async () => {
    // Prepare
    const { rt, calls } = await start({
      DeployHandler: async () => {
        throw new Error("ECS said no");
      },
    });
    const entry = ecrEntry("release-8");
    // Act
    await rt.clients.events.send(new PutEventsCommand({ Entries: [entry] }));
    const dlq = rt.provisioned.queues.DeployDlq;
    const message = await until("dead letter", async () => {
      const { Messages } = await rt.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq?.url,
          MaxNumberOfMessages: 1,
          MessageAttributeNames: ["All"],
          WaitTimeSeconds: 1,
        }),
      );
      return Messages?.[0];
    });
    // Assess
    expect(calls).toHaveLength(3); // one attempt and two retries, as Lambda makes for async invokes
    expect(JSON.parse(message.Body ?? "{}").detail).toEqual(JSON.parse(entry.Detail));
    expect(message.MessageAttributes?.ErrorMessage?.StringValue).toBe("ECS said no");
    expect(message.MessageAttributes?.Source?.StringValue).toBe("DeployImagePushed");
  });

  it("ignores events no rule matches", async () => {
    // Prepare
    const { rt, calls } = await start({ DeployHandler: async () => undefined });
    const other = Events.Simulate.ecrPush({
      repository: "not-configured",
      tag: "release-1",
      region: "us-east-1",
      account: "123456789012",
    });
    // Act
    await rt.clients.events.send(new PutEventsCommand({ Entries: [other] }));
    await rt.clients.events.send(new PutEventsCommand({ Entries: [ecrEntry("release-9")] }));
    await until("the matching event", () => (calls.length > 0 ? true : undefined));
    await rt.dispatcher.idle();
    // Assess
    expect(
      calls.map(
        (c) =>
          (c.event as EventBridgeEvent<string, Record<string, string>>).detail["repository-name"],
      ),
    ).toEqual(["web"]);
  });

  it("archives routed events and replays them into the rules, marked with replay-name", async () => {
    // Prepare
    const { rt, calls } = await start({ DeployHandler: async () => undefined });
    const from = new Date(Date.now() - 60_000);
    await rt.clients.events.send(new PutEventsCommand({ Entries: [ecrEntry("release-10")] }));
    await until("first delivery", () => (calls.length === 1 ? true : undefined));
    // Act
    await rt.clients.events.send(
      new StartReplayCommand({
        ReplayName: "backbone-replay",
        EventSourceArn: rt.provisioned.archive.arn,
        EventStartTime: from,
        EventEndTime: new Date(Date.now() + 1000),
        Destination: {
          Arn: rt.provisioned.busArn,
          FilterArns: [rt.provisioned.rules.DeployImagePushed?.arn ?? ""],
        },
      }),
    );
    await until("replay", async () => {
      const r = await rt.clients.events.send(
        new DescribeReplayCommand({ ReplayName: "backbone-replay" }),
      );
      return r.State === "COMPLETED" ? r : undefined;
    });
    await until("replayed delivery", () => (calls.length === 2 ? true : undefined));
    // Assess
    const [original, replayed] = calls.map((c) => c.event as Record<string, unknown>);
    expect(original?.["replay-name"]).toBeUndefined();
    expect(replayed?.["replay-name"]).toBe("backbone-replay");
    expect(replayed?.detail).toMatchObject({ "image-tag": "release-10" });
  });
});
