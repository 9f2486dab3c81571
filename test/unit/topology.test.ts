import { describe, expect, it } from "vitest";
import { Config, Topology } from "../../packages/core/src";
import projectConfig from "../../switchyard.config";
import {
  type AnyEventBridgeEvent,
  ecrDelete,
  ecrPush,
  ecsDeploymentEvent,
  objectCreated,
  SIMULATED_SOURCE,
} from "../support/factories";

const topologyFor = (stage: string, input: unknown = projectConfig) =>
  Topology.build(Config.load(input, stage));
const matchingRules = (t: Topology.Topology, event: AnyEventBridgeEvent) =>
  t.rules.filter((r) => Topology.matches(r.pattern, event)).map((r) => r.id);

describe("Topology.build: rule patterns against real AWS event shapes", () => {
  const local = topologyFor("local");
  const production = topologyFor("production");

  it.each([
    {
      name: "ECR push of a configured repository",
      event: ecrPush({ repository: "web", tag: "release-1" }),
      local: ["DeployImagePushed"],
      production: ["DeployImagePushed"],
    },
    {
      name: "simulated ECR push",
      event: ecrPush({ repository: "web", tag: "release-1", source: SIMULATED_SOURCE }),
      local: ["DeployImagePushed"],
      production: [],
    },
    {
      name: "ECR push of another repository",
      event: ecrPush({ repository: "api", tag: "release-1" }),
      local: [],
      production: [],
    },
    {
      name: "ECR push that failed",
      event: ecrPush({ repository: "web", tag: "release-1", result: "FAILURE" }),
      local: [],
      production: [],
    },
    { name: "ECR delete", event: ecrDelete({ repository: "web" }), local: [], production: [] },
    // Digest-only pushes reach the handler, which skips them with a logged reason.
    {
      name: "ECR digest-only push",
      event: ecrPush({ repository: "web", tag: "" }),
      local: ["DeployImagePushed"],
      production: ["DeployImagePushed"],
    },
    {
      name: "CSV under orders/",
      event: objectCreated({ bucket: "demo-raw", key: "orders/2026/11/23/a.csv", versionId: "v1" }),
      local: ["IngestOrdersObjectCreated"],
      production: ["IngestOrdersObjectCreated"],
    },
    {
      name: "raw key with spaces, ':', '+', '=' and unicode",
      event: objectCreated({ bucket: "demo-raw", key: "orders/2026/a b:c+d=é.csv" }),
      local: ["IngestOrdersObjectCreated"],
      production: ["IngestOrdersObjectCreated"],
    },
    {
      name: "JSON under orders/ (wrong suffix)",
      event: objectCreated({ bucket: "demo-raw", key: "orders/2026/a.json" }),
      local: [],
      production: [],
    },
    {
      name: "CSV outside the prefix",
      event: objectCreated({ bucket: "demo-raw", key: "invoices/orders/a.csv" }),
      local: [],
      production: [],
    },
    {
      name: "CSV in another bucket",
      event: objectCreated({ bucket: "other-raw", key: "orders/a.csv" }),
      local: [],
      production: [],
    },
    {
      name: "artifact zip",
      event: objectCreated({ bucket: "demo-artifacts", key: "api/build-42.zip", versionId: "v3" }),
      local: ["PromoteApiArtifactUploaded"],
      production: ["PromoteApiArtifactUploaded"],
    },
    {
      name: "artifact that is not a zip",
      event: objectCreated({ bucket: "demo-artifacts", key: "api/build-42.txt" }),
      local: [],
      production: [],
    },
    {
      name: "ECS deployment state change",
      event: ecsDeploymentEvent({ cluster: "demo", service: "web" }),
      local: [],
      production: [],
    },
  ])("$name", ({ event, local: expectedLocal, production: expectedProduction }) => {
    // Act
    const inLocal = matchingRules(local, event);
    const inProduction = matchingRules(production, event);
    // Assess
    expect(inLocal).toEqual(expectedLocal);
    expect(inProduction).toEqual(expectedProduction);
    // The archive keeps exactly what some rule routes.
    expect(Topology.matches(local.archive.pattern, event)).toBe(expectedLocal.length > 0);
  });

  it("escapes wildcard characters of a prefix so they match only themselves", () => {
    // Prepare
    const t = topologyFor("dev", {
      datasets: [
        {
          name: "weird",
          bucket: "demo-raw",
          prefix: "we*rd/",
          suffix: ".csv",
          glueJobs: ["j"],
          snowflake: { table: "A.B.C" },
        },
      ],
      snowflake: { account: "a", user: "u", privateKey: { parameterName: "/k" } },
    });
    // Act
    const literal = matchingRules(t, objectCreated({ bucket: "demo-raw", key: "we*rd/x.csv" }));
    const other = matchingRules(t, objectCreated({ bucket: "demo-raw", key: "weXXrd/x.csv" }));
    // Assess
    expect(t.rules[0]?.pattern).toMatchObject({
      detail: { object: { key: [{ wildcard: "we\\*rd/*.csv" }] } },
    });
    expect(literal).toEqual(["IngestWeirdObjectCreated"]);
    expect(other).toEqual([]);
  });

  it.each([
    { prefix: "orders/", suffix: "", matcher: { prefix: "orders/" } },
    { prefix: "", suffix: ".csv", matcher: { suffix: ".csv" } },
    { prefix: "orders/", suffix: ".csv", matcher: { wildcard: "orders/*.csv" } },
  ])(
    "uses the narrowest key matcher for prefix '$prefix' and suffix '$suffix'",
    ({ prefix, suffix, matcher }) => {
      expect(Topology.keyMatcher(prefix, suffix)).toEqual(matcher);
    },
  );
});

describe("Topology.build: conventions", () => {
  const stages = ["local", "dev", "production"];

  it.each(stages)("every rule target of stage %s has a DLQ, and every DLQ an alarm", (stage) => {
    // Act
    const t = topologyFor(stage);
    // Assess
    const dlqs = new Set(t.queues.filter((q) => q.deadLetter).map((q) => q.id));
    expect(t.rules.length).toBeGreaterThan(0);
    for (const rule of t.rules) expect(dlqs.has(rule.target.deadLetterQueue), rule.id).toBe(true);
    for (const q of t.queues.filter((x) => x.redrive))
      expect(dlqs.has(q.redrive?.deadLetterQueue ?? ""), q.id).toBe(true);
    // Functions that rules invoke asynchronously; workflow tasks (e.g. DeployRevision) are synchronous.
    const invokedByRules = t.rules.flatMap((r) =>
      r.target.kind === "function" ? [r.target.function] : [],
    );
    expect(invokedByRules.length).toBeGreaterThan(0);
    for (const fn of t.functions.filter((f) => invokedByRules.includes(f.id)))
      expect(dlqs.has(fn.asyncDeadLetterQueue ?? ""), fn.id).toBe(true);
    expect(t.alarms.map((a) => a.queue).sort()).toEqual([...dlqs].sort());
  });

  it.each(stages)("names in stage %s are unique and within AWS limits", (stage) => {
    // Act
    const t = topologyFor(stage);
    // Assess
    const ruleNames = t.rules.map((r) => r.name);
    const queueNames = t.queues.map((q) => q.name);
    expect(new Set(ruleNames).size).toBe(ruleNames.length);
    expect(new Set(queueNames).size).toBe(queueNames.length);
    for (const n of ruleNames) expect(n).toMatch(/^[.\-_A-Za-z0-9]{1,64}$/);
    for (const n of queueNames) expect(n).toMatch(/^[-_A-Za-z0-9]{1,80}$/);
    expect(t.archive.name).toMatch(/^[.\-_A-Za-z0-9]{1,48}$/);
  });

  it("production accepts only AWS sources; other stages also the simulated source", () => {
    expect(topologyFor("production").sources).toEqual(["aws.ecr", "aws.s3"]);
    expect(topologyFor("dev").sources).toEqual(["aws.ecr", "aws.s3", SIMULATED_SOURCE]);
  });

  it("archive retention follows the stage override", () => {
    expect(topologyFor("local").archive.retentionDays).toBe(1);
    expect(topologyFor("dev").archive.retentionDays).toBe(30);
    expect(topologyFor("production").archive.retentionDays).toBe(90);
  });

  it("is a pure function of config and stage", () => {
    expect(topologyFor("dev")).toEqual(topologyFor("dev"));
  });

  it("shortens long physical names deterministically with a hash", () => {
    // Act
    const a = Topology.physicalName(
      "switchyard",
      "feature-very-long-branch-name",
      "ingest-a-very-long-dataset-name-indeed",
    );
    const b = Topology.physicalName(
      "switchyard",
      "feature-very-long-branch-name",
      "ingest-a-very-long-dataset-name-indeed",
    );
    // Assess
    expect(a).toHaveLength(64);
    expect(a).toBe(b);
    expect(a).toMatch(/-[0-9a-f]{8}$/);
  });
});
