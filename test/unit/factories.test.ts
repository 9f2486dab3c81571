import type { SQSMessageAttributes } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  ACCOUNT,
  digestOf,
  EMPTY_ETAG,
  ecrDelete,
  ecrPush,
  ecrPushDigestOnly,
  ecsDeploymentEvent,
  type FixtureName,
  fixture,
  objectCreated,
  REGION,
  replayed,
  SIMULATED_SOURCE,
  sqsEventOf,
  sqsRecord,
} from "../support/factories";

const ENVELOPE_KEYS = [
  "account",
  "detail",
  "detail-type",
  "id",
  "region",
  "resources",
  "source",
  "time",
  "version",
];
const FIXTURES: FixtureName[] = [
  "ecr-image-action-push",
  "ecr-image-action-push-digest-only",
  "ecr-image-action-delete",
  "s3-object-created",
  "s3-object-created-unversioned",
  "ecs-deployment-state-change",
  "ecs-deployment-failed",
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AWS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe("fixtures", () => {
  it.each(FIXTURES)("%s has exactly the EventBridge envelope", (name) => {
    const event = fixture(name);
    expect(Object.keys(event).sort()).toEqual(ENVELOPE_KEYS);
    expect(event.version).toBe("0");
    expect(event.account).toBe(ACCOUNT);
    expect(event.region).toBe(REGION);
    expect(event.time).toMatch(AWS_TIME);
    expect(event.source).toMatch(/^aws\.(ecr|s3|ecs)$/);
  });

  it("returns copies that tests can mutate freely", () => {
    fixture("ecr-image-action-push").detail["image-tag"] = "mutated";
    expect(fixture("ecr-image-action-push").detail["image-tag"]).toBe("release-2026.11.23");
  });
});

describe("ecrPush", () => {
  it("builds a PUSH SUCCESS with the overrides applied", () => {
    const digest = digestOf("web@1");
    const event = ecrPush({
      repository: "api",
      tag: "release-7",
      digest,
      pushedAt: new Date("2026-11-24T09:30:00.123Z"),
    });
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "ECR Image Action",
      source: "aws.ecr",
      account: ACCOUNT,
      region: REGION,
      time: "2026-11-24T09:30:00Z",
      resources: [],
      detail: {
        result: "SUCCESS",
        "action-type": "PUSH",
        "repository-name": "api",
        "image-tag": "release-7",
        "image-digest": digest,
      },
    });
    expect(event.id).toMatch(UUID);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("is deterministic and derives the id from its inputs", () => {
    expect(ecrPush({ repository: "api", tag: "a" })).toEqual(
      ecrPush({ repository: "api", tag: "a" }),
    );
    expect(ecrPush({ repository: "api", tag: "a" }).id).not.toBe(
      ecrPush({ repository: "api", tag: "b" }).id,
    );
  });

  it("represents a digest-only push with an empty image-tag, as AWS does", () => {
    const event = ecrPushDigestOnly({ repository: "web" });
    expect(event.detail["image-tag"]).toBe("");
    expect(event.detail["manifest-media-type"]).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(ecrPush({ tag: "" }).detail).toHaveProperty("image-tag", "");
  });

  it("builds simulated events and the documented shape on request", () => {
    const event = ecrPush({ source: SIMULATED_SOURCE, manifestMediaType: null });
    expect(SIMULATED_SOURCE).toBe("switchyard.simulated");
    expect(event.source).toBe("switchyard.simulated");
    expect(Object.keys(event.detail).sort()).toEqual([
      "action-type",
      "image-digest",
      "image-tag",
      "repository-name",
      "result",
    ]);
  });

  it("builds deletes", () => {
    expect(ecrDelete({ tag: "old" }).detail).toMatchObject({
      "action-type": "DELETE",
      "image-tag": "old",
    });
  });
});

describe("objectCreated", () => {
  it("keeps the key raw, never URL-encoded", () => {
    const key = "orders/2026/11/23/a b+c:d é.csv";
    const event = objectCreated({
      bucket: "demo-raw",
      key,
      size: 10,
      etag: "abc",
      versionId: "v1",
    });
    expect(event.detail.object.key).toBe(key);
    expect(Object.keys(event.detail.object)).toEqual([
      "key",
      "size",
      "etag",
      "version-id",
      "sequencer",
    ]);
    expect(JSON.stringify(event)).not.toContain("%20");
    expect(event.resources).toEqual(["arn:aws:s3:::demo-raw"]);
    expect(event.detail).toMatchObject({
      version: "0",
      bucket: { name: "demo-raw" },
      object: { key, size: 10, etag: "abc", "version-id": "v1" },
      reason: "PutObject",
      requester: ACCOUNT,
    });
    expect(event.detail["request-id"]).toMatch(/^[0-9A-F]{16}$/);
    expect(event.detail["source-ip-address"]).toBe("203.0.113.10");
  });

  it("omits version-id for unversioned buckets and derives a time-ordered sequencer", () => {
    const early = objectCreated({ bucket: "b", key: "k", time: "2026-11-23T14:07:31Z" });
    const late = objectCreated({ bucket: "b", key: "k", time: "2026-11-23T14:07:32Z" });
    expect(early.detail.object).not.toHaveProperty("version-id");
    expect(early.detail.object.sequencer).toMatch(/^006B0448A3[0-9A-F]{8}$/);
    expect(late.detail.object.sequencer > early.detail.object.sequencer).toBe(true);
    expect(objectCreated({ bucket: "b", key: "dir/", size: 0 }).detail.object.etag).toBe(
      EMPTY_ETAG,
    );
  });

  it("honours the source override", () => {
    expect(objectCreated({ bucket: "b", key: "k", source: SIMULATED_SOURCE }).source).toBe(
      SIMULATED_SOURCE,
    );
  });
});

describe("ecsDeploymentEvent", () => {
  it("builds COMPLETED as INFO and FAILED as ERROR for the service's ARN", () => {
    const done = ecsDeploymentEvent({ cluster: "demo", service: "web", deploymentId: "ecs-svc/1" });
    expect(done.resources).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:service/demo/web`]);
    expect(done.detail).toMatchObject({
      eventType: "INFO",
      eventName: "SERVICE_DEPLOYMENT_COMPLETED",
      deploymentId: "ecs-svc/1",
      reason: "ECS deployment ecs-svc/1 completed.",
    });
    const failed = ecsDeploymentEvent({
      cluster: "demo",
      service: "web",
      eventName: "SERVICE_DEPLOYMENT_FAILED",
    });
    expect(failed.detail).toMatchObject({
      eventType: "ERROR",
      eventName: "SERVICE_DEPLOYMENT_FAILED",
    });
    expect(failed.detail.deploymentId).toMatch(/^ecs-svc\/\d{19}$/);
  });
});

describe("SQS wrapping", () => {
  it("wraps EventBridge events the way an SQS-triggered Lambda receives them", () => {
    const events = [ecrPush(), objectCreated({ bucket: "b", key: "k" })];
    const batch = sqsEventOf(events);
    expect(batch.Records).toHaveLength(2);
    const [first, second] = batch.Records;
    expect(Object.keys(first ?? {}).sort()).toEqual([
      "attributes",
      "awsRegion",
      "body",
      "eventSource",
      "eventSourceARN",
      "md5OfBody",
      "messageAttributes",
      "messageId",
      "receiptHandle",
    ]);
    expect(first).toMatchObject({
      eventSource: "aws:sqs",
      awsRegion: REGION,
      messageAttributes: {},
    });
    expect(JSON.parse(first?.body ?? "")).toEqual(events[0]);
    expect(first?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(first?.attributes.ApproximateReceiveCount).toBe("1");
    expect(first?.attributes.SentTimestamp).toBe(String(Date.parse(events[0]?.time ?? "") + 300));
    expect(first?.messageId).not.toBe(second?.messageId);
    expect(sqsEventOf(events)).toEqual(batch);
  });

  it("computes md5OfBody and SQS's MD5 of message attributes", () => {
    // md5OfBody of "Test message." as in the Lambda SQS example event; the attribute
    // digests are the test vectors other SQS implementations (LocalStack, sqslite) check.
    expect(sqsRecord("Test message.").md5OfBody).toBe("e4e68fb7bd0e697a0ae8f1bb342846b3");
    expect(sqsRecord("x").md5OfMessageAttributes).toBeUndefined();
    const md5 = (messageAttributes: SQSMessageAttributes) =>
      sqsRecord("x", { messageAttributes }).md5OfMessageAttributes;
    expect(md5({ timestamp: { dataType: "Number", stringValue: "1493147359900" } })).toBe(
      "235c5c510d26fb653d073faed50ae77c",
    );
    expect(md5({ SellerName: { dataType: "String", stringValue: "Example Store" } })).toBe(
      "cd28f3b68aeee4b2eac9c66f2f694b58",
    );
    expect(
      md5({
        ordinal: { dataType: "Number", stringValue: "1" },
        category: { dataType: "String", stringValue: "test" },
      }),
    ).toBe("d21ae90c49061e927f57df5f5d72be1f");
  });

  it("keeps replays recognisable", () => {
    expect(replayed(ecrPush(), "r1")["replay-name"]).toBe("r1");
  });
});
