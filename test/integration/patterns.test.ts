import { PutEventsCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { Config, Topology } from "../../packages/core/src";
import projectConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";
import {
  type AnyEventBridgeEvent,
  ecrDelete,
  ecrPush,
  ecsDeploymentEvent,
  objectCreated,
  SIMULATED_SOURCE,
} from "../support/factories";

/**
 * Differential check of event patterns: the emulator's EventBridge matcher (moto's, written
 * independently of ours) must route exactly the events our `Topology.matches` says a
 * pattern matches. Covers the topology's own patterns for two stages and the operators
 * Switchyard relies on (prefix, suffix, wildcard, anything-but, equals-ignore-case…).
 */
const { clients } = useEmulator();

const events: AnyEventBridgeEvent[] = [
  ecrPush({ repository: "web", tag: "release-1" }),
  ecrPush({ repository: "web", tag: "release-2", source: SIMULATED_SOURCE }),
  ecrPush({ repository: "web", tag: "" }),
  ecrPush({ repository: "api", tag: "release-1" }),
  ecrPush({ repository: "web", tag: "release-3", result: "FAILURE" }),
  ecrDelete({ repository: "web" }),
  objectCreated({ bucket: "demo-raw", key: "orders/2026/11/23/a.csv", versionId: "v1" }),
  objectCreated({ bucket: "demo-raw", key: "orders/2026/a b:c+d=é.csv" }),
  objectCreated({ bucket: "demo-raw", key: "orders/2026/a.json" }),
  objectCreated({ bucket: "demo-raw", key: "ORDERS/2026/a.CSV" }),
  objectCreated({ bucket: "demo-raw", key: "invoices/orders/a.csv" }),
  objectCreated({ bucket: "demo-artifacts", key: "api/build-42.zip", versionId: "v3" }),
  objectCreated({ bucket: "demo-artifacts", key: "api/build-42.txt" }),
  objectCreated({ bucket: "demo-raw", key: "orders/", size: 0 }),
  ecsDeploymentEvent({ cluster: "demo", service: "web" }),
];

const operatorPatterns: Record<string, Topology.EventPattern> = {
  "anything-but": {
    source: ["aws.ecr"],
    detail: { "repository-name": [{ "anything-but": ["web"] }] },
  },
  "anything-but prefix": {
    source: ["aws.s3"],
    detail: { object: { key: [{ "anything-but": { prefix: "orders/" } }] } },
  },
  "equals-ignore-case": {
    detail: { object: { key: [{ "equals-ignore-case": "orders/2026/A.CSV" }] } },
  },
  "prefix ignore case": {
    detail: { object: { key: [{ prefix: { "equals-ignore-case": "ORDERS/" } }] } },
  },
  suffix: { detail: { object: { key: [{ suffix: ".zip" }] } } },
  wildcard: { detail: { object: { key: [{ wildcard: "orders/*/a*.csv" }] } } },
  exists: { detail: { "image-tag": [{ exists: true }] } },
  "not exists": { source: ["aws.s3"], detail: { object: { "version-id": [{ exists: false }] } } },
  numeric: { detail: { object: { size: [{ numeric: [">", 0, "<=", 1024] }] } } },
  $or: { $or: [{ source: ["aws.ecr"] }, { detail: { object: { key: [{ suffix: ".txt" }] } } }] },
};

const label = (e: AnyEventBridgeEvent) =>
  `${e.source}|${e["detail-type"]}|${JSON.stringify(e.detail)}`;

/** Labels of the sample events our own matcher says `pattern` matches, sorted. */
const matchedByUs = (pattern: Topology.EventPattern) =>
  events
    .filter((e) => Topology.matches(pattern, e))
    .map(label)
    .sort();

async function routeThroughEmulator(
  patterns: Record<string, Topology.EventPattern>,
): Promise<Record<string, string[]>> {
  const c = clients();
  const queues: Record<string, string> = {};
  for (const [i, [name, pattern]] of Object.entries(patterns).entries()) {
    const { QueueUrl = "" } = await c.sqs.send(
      new CreateQueueCommand({ QueueName: `pattern-${i}` }),
    );
    const { Attributes } = await c.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    await c.events.send(
      new PutRuleCommand({ Name: `pattern-${i}`, EventPattern: JSON.stringify(pattern) }),
    );
    await c.events.send(
      new PutTargetsCommand({
        Rule: `pattern-${i}`,
        Targets: [{ Id: "q", Arn: Attributes?.QueueArn }],
      }),
    );
    queues[name] = QueueUrl;
  }
  for (const e of events) {
    const { FailedEntryCount } = await c.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: e.source,
            DetailType: e["detail-type"],
            Detail: JSON.stringify(e.detail),
            Resources: e.resources,
          },
        ],
      }),
    );
    expect(FailedEntryCount).toBe(0);
  }
  const routed: Record<string, string[]> = {};
  for (const [name, url] of Object.entries(queues)) {
    const got: Message[] = [];
    for (;;) {
      const { Messages = [] } = await c.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) break;
      got.push(...Messages);
    }
    routed[name] = got.map((m) => label(JSON.parse(m.Body ?? "{}"))).sort();
  }
  return routed;
}

describe("event patterns: our matcher agrees with the emulator's EventBridge", () => {
  it.each(["local", "production"])("for every rule and the archive of stage %s", async (stage) => {
    // Prepare
    const t = Topology.build(Config.load(projectConfig, stage));
    const patterns: Record<string, Topology.EventPattern> = Object.fromEntries([
      ...t.rules.map((r) => [r.id, r.pattern] as const),
      ["archive", t.archive.pattern] as const,
    ]);
    // Act
    const routed = await routeThroughEmulator(patterns);
    // Assess
    for (const [name, pattern] of Object.entries(patterns)) {
      const expected = matchedByUs(pattern);
      expect(routed[name], name).toEqual(expected);
    }
    expect(Object.values(routed).some((r) => r.length > 0)).toBe(true);
  });

  it("for each pattern operator Switchyard relies on", async () => {
    // Act
    const routed = await routeThroughEmulator(operatorPatterns);
    // Assess
    for (const [name, pattern] of Object.entries(operatorPatterns)) {
      const expected = matchedByUs(pattern);
      expect(expected.length, `${name} should match some sample`).toBeGreaterThan(0);
      expect(routed[name], name).toEqual(expected);
    }
  });
});
