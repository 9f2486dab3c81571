/**
 * Event factories for tests, built from the real AWS event shapes in test/fixtures/events
 * (test/fixtures/README.md names the AWS page each fixture follows).
 *
 * Each factory deep-copies a fixture and overrides only what the test names, so the
 * EventBridge envelope (version, id, detail-type, source, account, time, region, resources)
 * and the detail keep exactly the shape AWS sends. Output is deterministic: ids, digests,
 * sequencers and receipt handles are derived from the inputs by hashing, never random,
 * so the same call always builds the same event.
 *
 * A `source` override builds simulated events: non-production stages also match
 * `SIMULATED_SOURCE`, which is how `switchyard send` injects real-shaped events (AWS
 * refuses PutEvents with an `aws.*` source).
 */
import { createHash } from "node:crypto";
import { Topology } from "@switchyard/core";
import type { EventBridgeEvent, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import ecrDeleteJson from "../fixtures/events/ecr-image-action-delete.json" with { type: "json" };
import ecrPushJson from "../fixtures/events/ecr-image-action-push.json" with { type: "json" };
import ecrPushDigestOnlyJson from "../fixtures/events/ecr-image-action-push-digest-only.json" with {
  type: "json",
};
import ecsFailedJson from "../fixtures/events/ecs-deployment-failed.json" with { type: "json" };
import ecsCompletedJson from "../fixtures/events/ecs-deployment-state-change.json" with {
  type: "json",
};
import s3CreatedJson from "../fixtures/events/s3-object-created.json" with { type: "json" };
import s3CreatedUnversionedJson from "../fixtures/events/s3-object-created-unversioned.json" with {
  type: "json",
};

/** The source that non-production rules accept besides `aws.*` (defined once, in the core topology). */
export const SIMULATED_SOURCE = Topology.SIMULATED_SOURCE;

/** The fake account and region every fixture uses. */
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

// ---------------------------------------------------------------------------------------
// Event types
// ---------------------------------------------------------------------------------------

/** Any EventBridge event; `replay-name` is set on events replayed from an archive. */
export type AnyEventBridgeEvent = EventBridgeEvent<string, unknown>;

/**
 * `detail` of "ECR Image Action". The documented example has the first five fields; real
 * events also carry the media types. A push by digest only (no tag) sends `image-tag: ""`:
 * the key is present and empty, not absent.
 */
export interface EcrImageActionDetail {
  /** "SUCCESS" for the events the deploy rule matches. */
  result: string;
  "repository-name": string;
  "image-digest": string;
  "action-type": "PUSH" | "DELETE";
  /** The tag pushed or deleted; "" for a push by digest only. */
  "image-tag": string;
  /** The image config's media type; present on image manifests, absent on indexes. */
  "artifact-media-type"?: string;
  "manifest-media-type"?: string;
}
export type EcrImageActionEvent = EventBridgeEvent<"ECR Image Action", EcrImageActionDetail>;

/**
 * `detail` of S3's "Object Created" (S3 → EventBridge). Unlike the classic S3 notification
 * format (`Records[].s3.object.key`, URL-encoded), EventBridge carries the key RAW: spaces,
 * `:`, `+` and unicode appear as they are in the object's name. `version-id` is present
 * only for versioned buckets.
 */
export interface ObjectCreatedDetail {
  version: "0";
  bucket: { name: string };
  object: {
    key: string;
    size: number;
    etag: string;
    "version-id"?: string;
    sequencer: string;
  };
  "request-id": string;
  requester: string;
  "source-ip-address"?: string;
  reason: "PutObject" | "POST Object" | "CopyObject" | "CompleteMultipartUpload";
}
export type ObjectCreatedEvent = EventBridgeEvent<"Object Created", ObjectCreatedDetail>;

export type EcsDeploymentEventName =
  | "SERVICE_DEPLOYMENT_IN_PROGRESS"
  | "SERVICE_DEPLOYMENT_COMPLETED"
  | "SERVICE_DEPLOYMENT_FAILED";

/** `detail` of "ECS Deployment State Change". FAILED is sent only with the circuit breaker on. */
export interface EcsDeploymentDetail {
  eventType: "INFO" | "ERROR";
  eventName: EcsDeploymentEventName;
  deploymentId: string;
  updatedAt: string;
  reason: string;
}
export type EcsDeploymentEvent = EventBridgeEvent<
  "ECS Deployment State Change",
  EcsDeploymentDetail
>;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

interface FixtureEvents {
  "ecr-image-action-push": EcrImageActionEvent;
  "ecr-image-action-push-digest-only": EcrImageActionEvent;
  "ecr-image-action-delete": EcrImageActionEvent;
  "s3-object-created": ObjectCreatedEvent;
  "s3-object-created-unversioned": ObjectCreatedEvent;
  "ecs-deployment-state-change": EcsDeploymentEvent;
  "ecs-deployment-failed": EcsDeploymentEvent;
}
export type FixtureName = keyof FixtureEvents;

const FIXTURES: { readonly [N in FixtureName]: FixtureEvents[N] } = {
  "ecr-image-action-push": ecrPushJson as EcrImageActionEvent,
  "ecr-image-action-push-digest-only": ecrPushDigestOnlyJson as EcrImageActionEvent,
  "ecr-image-action-delete": ecrDeleteJson as EcrImageActionEvent,
  "s3-object-created": s3CreatedJson as ObjectCreatedEvent,
  "s3-object-created-unversioned": s3CreatedUnversionedJson as ObjectCreatedEvent,
  "ecs-deployment-state-change": ecsCompletedJson as EcsDeploymentEvent,
  "ecs-deployment-failed": ecsFailedJson as EcsDeploymentEvent,
};

/** A fresh deep copy of a fixture, exactly as stored; mutating it never affects other tests. */
export function fixture<N extends FixtureName>(name: N): FixtureEvents[N] {
  return structuredClone(FIXTURES[name]);
}

// ---------------------------------------------------------------------------------------
// Deterministic values
// ---------------------------------------------------------------------------------------

const sha256 = (...parts: readonly unknown[]): string =>
  createHash("sha256").update(parts.map(String).join("\u0000")).digest("hex");

/** A UUID-shaped id (8-4-4-4-12 hex, like EventBridge event ids) derived from the parts. */
export function idFrom(...parts: readonly unknown[]): string {
  const h = sha256(...parts);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** An event id derived from the envelope plus what identifies the event's subject. */
function envelopeId(event: AnyEventBridgeEvent, ...subject: readonly unknown[]): string {
  return idFrom(
    event["detail-type"],
    event.source,
    event.account,
    event.region,
    event.time,
    ...subject,
  );
}

/** A realistic image digest (`sha256:` + 64 hex) derived from a seed. */
export function digestOf(seed: string): string {
  return `sha256:${sha256("digest", seed)}`;
}

/**
 * EventBridge envelope time: ISO 8601 in UTC to the second, e.g. "2026-11-23T14:05:12Z".
 * Strings pass through unchanged so a test can pin any value.
 */
export function awsTime(time: string | Date): string {
  return typeof time === "string" ? time : time.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------------------------------
// ECR
// ---------------------------------------------------------------------------------------

export interface EcrImageActionOptions {
  /** Repository name; defaults to the fixture's ("web"). */
  repository?: string;
  /** Tag; "" means a push by digest only. Defaults to the fixture's tag. */
  tag?: string;
  /** Image digest; defaults to one derived from repository and tag. */
  digest?: string;
  /** Envelope `time`. Defaults to the fixture's. */
  pushedAt?: string | Date;
  /** Envelope `source`; pass SIMULATED_SOURCE for a simulated event. */
  source?: string;
  account?: string;
  region?: string;
  result?: string;
  /** Override or, with null, remove the media types (null gives the documented shape). */
  manifestMediaType?: string | null;
  artifactMediaType?: string | null;
  /** Sets `replay-name`, as on events replayed from an archive. */
  replayName?: string;
}

function ecrImageAction(
  base: EcrImageActionEvent,
  options: EcrImageActionOptions,
): EcrImageActionEvent {
  const event = structuredClone(base);
  const detail = event.detail;
  if (options.repository !== undefined) detail["repository-name"] = options.repository;
  if (options.tag !== undefined) detail["image-tag"] = options.tag;
  detail["image-digest"] =
    options.digest ??
    (options.repository !== undefined || options.tag !== undefined
      ? digestOf(`${detail["repository-name"]}:${detail["image-tag"]}`)
      : detail["image-digest"]);
  if (options.result !== undefined) detail.result = options.result;
  setOptional(detail, "manifest-media-type", options.manifestMediaType);
  setOptional(detail, "artifact-media-type", options.artifactMediaType);
  applyEnvelope(event, {
    time: options.pushedAt,
    source: options.source,
    account: options.account,
    region: options.region,
    replayName: options.replayName,
  });
  event.id = envelopeId(
    event,
    detail["action-type"],
    detail["repository-name"],
    detail["image-digest"],
    detail["image-tag"],
  );
  return event;
}

/**
 * An "ECR Image Action" PUSH SUCCESS. With `tag: ""` it is a push by digest only (built
 * from the digest-only fixture: an image manifest, `image-tag: ""`), which the deploy
 * planner must skip with a reason.
 */
export function ecrPush(options: EcrImageActionOptions = {}): EcrImageActionEvent {
  const base =
    options.tag === ""
      ? FIXTURES["ecr-image-action-push-digest-only"]
      : FIXTURES["ecr-image-action-push"];
  return ecrImageAction(base, options);
}

/** A push by digest only, e.g. one platform manifest of a multi-arch `buildx --push`. */
export function ecrPushDigestOnly(
  options: Omit<EcrImageActionOptions, "tag"> = {},
): EcrImageActionEvent {
  return ecrPush({ ...options, tag: "" });
}

/** An "ECR Image Action" DELETE SUCCESS. */
export function ecrDelete(
  options: Omit<EcrImageActionOptions, "pushedAt"> & { deletedAt?: string | Date } = {},
): EcrImageActionEvent {
  const { deletedAt, ...rest } = options;
  return ecrImageAction(FIXTURES["ecr-image-action-delete"], { ...rest, pushedAt: deletedAt });
}

// ---------------------------------------------------------------------------------------
// S3
// ---------------------------------------------------------------------------------------

/** ETag of an empty object (MD5 of no bytes): folder markers carry it. */
export const EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e";

export interface ObjectCreatedOptions {
  bucket: string;
  /** The object key, RAW (not URL-encoded), exactly as EventBridge sends it. */
  key: string;
  /** Bytes; defaults to 1024. */
  size?: number;
  /** Defaults to an MD5-shaped hash of bucket/key/version (EMPTY_ETAG when size is 0). */
  etag?: string;
  /** Omit for an unversioned bucket: the event then has no `version-id`. */
  versionId?: string;
  /**
   * Defaults to "00" + the event time's epoch seconds (8 hex) + 8 hex derived from the
   * object: real sequencers have that layout (observed, not documented). AWS compares
   * sequencers only between events for the same key; pass explicit ones to order events
   * that fall in the same second.
   */
  sequencer?: string;
  /** Envelope `time`; defaults to the fixture's. */
  time?: string | Date;
  /** Envelope `source`; pass SIMULATED_SOURCE for a simulated event. */
  source?: string;
  reason?: ObjectCreatedDetail["reason"];
  requester?: string;
  sourceIpAddress?: string;
  account?: string;
  region?: string;
  replayName?: string;
}

/**
 * An S3 "Object Created" event as EventBridge delivers it. The key is kept RAW, never
 * URL-encoded: EventBridge sends "orders/a b:c é.csv", not "orders/a+b%3Ac+%C3%A9.csv".
 */
export function objectCreated(options: ObjectCreatedOptions): ObjectCreatedEvent {
  const base =
    options.versionId === undefined
      ? FIXTURES["s3-object-created-unversioned"]
      : FIXTURES["s3-object-created"];
  const event = structuredClone(base);
  applyEnvelope(event, options);
  event.resources = [`arn:aws:s3:::${options.bucket}`];

  const detail = event.detail;
  const size = options.size ?? 1024;
  // Keys in the order AWS sends them: key, size, etag, version-id, sequencer.
  const identity: Omit<ObjectCreatedDetail["object"], "sequencer"> = {
    key: options.key,
    size,
    etag:
      options.etag ??
      (size === 0
        ? EMPTY_ETAG
        : sha256("etag", options.bucket, options.key, options.versionId).slice(0, 32)),
    ...(options.versionId === undefined ? {} : { "version-id": options.versionId }),
  };
  const object: ObjectCreatedDetail["object"] = {
    ...identity,
    sequencer: options.sequencer ?? sequencerFor(event.time, options.bucket, identity),
  };
  detail.bucket = { name: options.bucket };
  detail.object = object;
  detail["request-id"] = sha256("request", options.bucket, object.key, object.sequencer)
    .slice(0, 16)
    .toUpperCase();
  detail.requester = options.requester ?? event.account;
  if (options.sourceIpAddress !== undefined) detail["source-ip-address"] = options.sourceIpAddress;
  if (options.reason !== undefined) detail.reason = options.reason;

  event.id = envelopeId(
    event,
    options.bucket,
    object.key,
    object["version-id"],
    object.etag,
    object.sequencer,
  );
  return event;
}

function sequencerFor(
  time: string,
  bucket: string,
  object: Omit<ObjectCreatedDetail["object"], "sequencer">,
): string {
  const seconds = Math.floor(Date.parse(time) / 1000);
  if (!Number.isFinite(seconds))
    throw new Error(`objectCreated: unparseable time ${JSON.stringify(time)}`);
  const tail = sha256("sequencer", bucket, object.key, object["version-id"], object.etag).slice(
    0,
    8,
  );
  return `00${seconds.toString(16).padStart(8, "0")}${tail}`.toUpperCase();
}

// ---------------------------------------------------------------------------------------
// ECS
// ---------------------------------------------------------------------------------------

export interface EcsDeploymentOptions {
  cluster: string;
  service: string;
  /** Defaults to SERVICE_DEPLOYMENT_COMPLETED. */
  eventName?: EcsDeploymentEventName;
  /** Defaults to "ecs-svc/" + 19 digits derived from cluster and service. */
  deploymentId?: string;
  /** Defaults to the wording of the documented examples. */
  reason?: string;
  /** Envelope `time`; defaults to the fixture's. */
  time?: string | Date;
  /** detail.updatedAt; defaults to the envelope time. */
  updatedAt?: string | Date;
  source?: string;
  account?: string;
  region?: string;
  replayName?: string;
}

/** An "ECS Deployment State Change" event for one service. */
export function ecsDeploymentEvent(options: EcsDeploymentOptions): EcsDeploymentEvent {
  const eventName = options.eventName ?? "SERVICE_DEPLOYMENT_COMPLETED";
  const failed = eventName === "SERVICE_DEPLOYMENT_FAILED";
  const event = structuredClone(
    failed ? FIXTURES["ecs-deployment-failed"] : FIXTURES["ecs-deployment-state-change"],
  );
  applyEnvelope(event, options);
  event.resources = [
    `arn:aws:ecs:${event.region}:${event.account}:service/${options.cluster}/${options.service}`,
  ];
  const deploymentId =
    options.deploymentId ?? `ecs-svc/${deploymentDigits(options.cluster, options.service)}`;
  event.detail = {
    eventType: failed ? "ERROR" : "INFO",
    eventName,
    deploymentId,
    updatedAt: awsTime(options.updatedAt ?? event.time),
    reason: options.reason ?? defaultReason(eventName, deploymentId),
  };
  event.id = envelopeId(event, options.cluster, options.service, eventName, deploymentId);
  return event;
}

function deploymentDigits(cluster: string, service: string): string {
  const n = BigInt(`0x${sha256("deployment", cluster, service).slice(0, 16)}`) % 10n ** 19n;
  return n.toString().padStart(19, "1");
}

function defaultReason(eventName: EcsDeploymentEventName, deploymentId: string): string {
  switch (eventName) {
    case "SERVICE_DEPLOYMENT_IN_PROGRESS":
      return `ECS deployment ${deploymentId} in progress.`;
    case "SERVICE_DEPLOYMENT_COMPLETED":
      return `ECS deployment ${deploymentId} completed.`;
    case "SERVICE_DEPLOYMENT_FAILED":
      return "ECS deployment circuit breaker: task failed to start.";
  }
}

// ---------------------------------------------------------------------------------------
// Replays and SQS
// ---------------------------------------------------------------------------------------

/** A copy of `event` as an archive replay delivers it: same envelope plus `replay-name`. */
export function replayed<E extends AnyEventBridgeEvent>(
  event: E,
  replayName = "switchyard-replay",
): E {
  return { ...structuredClone(event), "replay-name": replayName };
}

export const DEFAULT_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:switchyard-test-ingest-orders`;
/** SenderId from the Lambda SQS example event; the real one names EventBridge's sender. */
const SENDER_ID = "AIDAIENQZJOLO23YVJ4VO";
/** SentTimestamp for bodies that carry no `time`. */
const DEFAULT_SENT_AT = Date.parse("2026-11-23T14:00:00Z");

export interface SqsRecordOptions {
  queueArn?: string;
  /** Defaults to one derived from queue, body and index; pin it to model a redelivery. */
  messageId?: string;
  /** attributes.ApproximateReceiveCount; defaults to 1. */
  receiveCount?: number;
  /** Epoch milliseconds; defaults to the body's `time` plus 300 ms. */
  sentTimestamp?: number;
  /** EventBridge targets send none; set them to test code that reads them. */
  messageAttributes?: SQSMessageAttributes;
  /** Position in the batch, folded into the derived ids. */
  index?: number;
}

/**
 * One SQS record as an SQS-triggered Lambda receives it. An EventBridge rule whose target
 * is the queue (no input transformer) sends the whole event as the JSON body.
 */
export function sqsRecord(body: string | object, options: SqsRecordOptions = {}): SQSRecord {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const queueArn = options.queueArn ?? DEFAULT_QUEUE_ARN;
  const receiveCount = options.receiveCount ?? 1;
  const messageId = options.messageId ?? idFrom("sqs", queueArn, text, options.index ?? 0);
  const sent = options.sentTimestamp ?? sentAt(body);
  const attributes = options.messageAttributes ?? {};
  const record: SQSRecord = {
    messageId,
    receiptHandle: `AQEB${Buffer.from(sha256("receipt", messageId, receiveCount), "hex").toString("base64")}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(sent),
      SenderId: SENDER_ID,
      ApproximateFirstReceiveTimestamp: String(sent + 25),
    },
    messageAttributes: attributes,
    md5OfBody: createHash("md5").update(text, "utf8").digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(":")[3] ?? REGION,
  };
  if (Object.keys(attributes).length > 0)
    record.md5OfMessageAttributes = md5OfMessageAttributes(attributes);
  return record;
}

/** A batch of SQS records, one per event, in order. */
export function sqsEventOf(
  events: readonly (string | object)[],
  options: Omit<SqsRecordOptions, "index" | "messageId"> = {},
): SQSEvent {
  return { Records: events.map((event, index) => sqsRecord(event, { ...options, index })) };
}

function sentAt(body: string | object): number {
  const time =
    typeof body === "object" && body !== null && "time" in body && typeof body.time === "string"
      ? Date.parse(body.time)
      : Number.NaN;
  return Number.isFinite(time) ? time + 300 : DEFAULT_SENT_AT;
}

/**
 * MD5 of message attributes as SQS computes it: attributes sorted by name, each encoded as
 * length-prefixed (4-byte big-endian) name, data type, a transport byte (1 string, 2 binary)
 * and length-prefixed value.
 */
function md5OfMessageAttributes(attributes: SQSMessageAttributes): string {
  const chunks: Buffer[] = [];
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (attribute === undefined) continue;
    prefixed(Buffer.from(name, "utf8"));
    prefixed(Buffer.from(attribute.dataType, "utf8"));
    if (attribute.binaryValue !== undefined) {
      chunks.push(Buffer.from([2]));
      prefixed(Buffer.from(attribute.binaryValue, "base64"));
    } else {
      chunks.push(Buffer.from([1]));
      prefixed(Buffer.from(attribute.stringValue ?? "", "utf8"));
    }
  }
  return createHash("md5").update(Buffer.concat(chunks)).digest("hex");
}

// ---------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------

interface EnvelopeOverrides {
  time?: string | Date;
  source?: string;
  account?: string;
  region?: string;
  replayName?: string;
}

function applyEnvelope(event: AnyEventBridgeEvent, overrides: EnvelopeOverrides): void {
  if (overrides.time !== undefined) event.time = awsTime(overrides.time);
  if (overrides.source !== undefined) event.source = overrides.source;
  if (overrides.account !== undefined) event.account = overrides.account;
  if (overrides.region !== undefined) event.region = overrides.region;
  if (overrides.replayName !== undefined) event["replay-name"] = overrides.replayName;
}

function setOptional<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | null | undefined,
): void {
  if (value === null) delete target[key];
  else if (value !== undefined) target[key] = value;
}
