import { BatchDeleteImageCommand, CreateRepositoryCommand } from "@aws-sdk/client-ecr";
import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Deploy } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { handler } from "../../functions/deploy";
import { Ecs, Ledger } from "../../packages/aws/src";
import { pushImage } from "../../packages/local/src/flows/deploy";
import { applyResourceEnv } from "../../packages/local/src/resources";
import switchyardConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";
import { ecrPush, ecrPushDigestOnly } from "../support/factories";
import { createLedgerTable } from "../support/ledger";

/**
 * The deploy adapters and handler against the emulator over HTTP: RegisterTaskDefinition with a
 * rich multi-container task definition, the ledger's conditional writes, and the handler's
 * skip and dead-letter paths for bad input.
 */
const { clients } = useEmulator();
const TABLE = "ledger";

const ledgerTable = () => createLedgerTable(clients(), TABLE);

describe("Ecs.registerRevision (ECS in the emulator)", () => {
  it("registers a copy that keeps every field of a multi-container task definition", async () => {
    // Prepare
    const ecs = clients().ecs;
    const { taskDefinition: current } = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "shop",
        taskRoleArn: "arn:aws:iam::123456789012:role/shop-task",
        executionRoleArn: "arn:aws:iam::123456789012:role/shop-exec",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "1024",
        memory: "2048",
        runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
        volumes: [{ name: "cache" }],
        containerDefinitions: [
          {
            name: "app",
            image: "shop:1",
            memory: 1024,
            essential: true,
            environment: [{ name: "MODE", value: "prod" }],
            secrets: [
              { name: "DB_URL", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/shop/db" },
            ],
            portMappings: [{ containerPort: 8080, protocol: "tcp" }],
            mountPoints: [{ sourceVolume: "cache", containerPath: "/cache" }],
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": "/ecs/shop", "awslogs-stream-prefix": "app" },
            },
            dockerLabels: { "com.example.team": "shop" },
          },
          {
            name: "worker",
            image: "shop:1",
            memory: 512,
            command: ["worker", "--queue", "orders"],
          },
          { name: "envoy", image: "envoy:1.30", memory: 128, essential: false },
        ],
        tags: [{ key: "team", value: "shop" }],
      }),
    );
    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:${"c".repeat(64)}`;

    // Act
    const registered = await Ecs.registerRevision(ecs, {
      taskDefinition: current?.taskDefinitionArn ?? "",
      containers: ["app", "worker"],
      image,
      roles: ["shop-task", "shop-exec"],
    });

    // Assess
    expect(registered).toMatchObject({
      family: "shop",
      revision: 2,
      previousTaskDefinitionArn: current?.taskDefinitionArn,
    });
    const { taskDefinition: next, tags } = await ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: registered.taskDefinitionArn,
        include: ["TAGS"],
      }),
    );
    const strip = ({
      taskDefinitionArn: _a,
      revision: _r,
      registeredAt: _t,
      containerDefinitions: _c,
      ...rest
    }: Record<string, unknown>) => rest;
    expect(strip(next as Record<string, unknown>)).toEqual(
      strip(current as Record<string, unknown>),
    );
    expect(next?.containerDefinitions).toEqual([
      { ...current?.containerDefinitions?.[0], image },
      { ...current?.containerDefinitions?.[1], image },
      current?.containerDefinitions?.[2],
    ]);
    expect(tags).toEqual([{ key: "team", value: "shop" }]);
  });

  it("passes ECS's own error on (an unknown task definition)", async () => {
    await expect(
      Ecs.registerRevision(clients().ecs, {
        taskDefinition: "nope:1",
        containers: ["app"],
        image: "x@sha256:1",
        roles: [],
      }),
    ).rejects.toMatchObject({ name: "ClientException" });
  });
});

describe("Ledger.admitDeploy (DynamoDB conditional write in the emulator)", () => {
  const candidate = (second: number, digest: string): Ledger.DeployCandidate => ({
    cluster: "demo",
    service: "web",
    repository: "web",
    tag: `release-${second}`,
    digest,
    pushedAt: new Date(Date.UTC(2026, 10, 23, 12, 0, second)),
    execution: `exec-${second}`,
  });
  const A = `sha256:${"a".repeat(64)}`;
  const B = `sha256:${"b".repeat(64)}`;

  it.each([
    {
      name: "newer after older",
      first: candidate(1, A),
      second: candidate(2, B),
      started: true,
      admit: true,
    },
    {
      name: "older after newer",
      first: candidate(2, B),
      second: candidate(1, A),
      started: true,
      admit: false,
      reason: /^older image/,
    },
    {
      name: "the same image after its start",
      first: candidate(1, A),
      second: candidate(1, A),
      started: true,
      admit: false,
      reason: /^duplicate/,
    },
    {
      name: "the same image before its start (a retry)",
      first: candidate(1, A),
      second: candidate(1, A),
      started: false,
      admit: true,
    },
  ])("$name → admit $admit", async (c) => {
    // Prepare
    await ledgerTable();
    const doc = clients().doc;
    expect((await Ledger.admitDeploy(doc, TABLE, c.first)).admit).toBe(true);
    if (c.started) await Ledger.markDeployStarted(doc, TABLE, c.first);

    // Act
    const decision = await Ledger.admitDeploy(doc, TABLE, c.second);

    // Assess
    expect(decision.admit).toBe(c.admit);
    if (decision.admit) expect(decision.resumed).toBe(!c.started);
    if (!decision.admit && c.reason) expect(decision.reason).toMatch(c.reason);
  });
});

describe("deploy handler: bad input and skips", () => {
  async function prepare() {
    await ledgerTable();
    const config = Config.load(switchyardConfig, "local");
    applyResourceEnv({
      Ledger: { name: TABLE, arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}` },
      DeployWorkflow: {
        name: "deploy",
        arn: "arn:aws:states:us-east-1:123456789012:stateMachine:deploy",
      },
      DeployConfig: { deploys: config.deploys },
    });
    await clients().ecr.send(new CreateRepositoryCommand({ repositoryName: "web" }));
  }
  const skips = async () =>
    (
      await clients().doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": Deploy.keys.repository("web") },
        }),
      )
    ).Items ?? [];

  it("throws MalformedEvent for an event that is not an ECR push, so the DLQ keeps it", async () => {
    await prepare();
    await expect(handler({ "detail-type": "ECR Image Action", detail: {} })).rejects.toMatchObject({
      name: "MalformedEvent",
      message: expect.stringContaining("detail.repository-name"),
    });
  });

  it.each([
    {
      name: "a digest-only push",
      event: () => ecrPushDigestOnly({ repository: "web", digest: `sha256:${"d".repeat(64)}` }),
      reason: /^digest-only push of web@sha256:d{64}/,
    },
    {
      name: "a push whose image was deleted since",
      event: async () => {
        const digest = await pushImage(clients().ecr, "web", "release-5");
        await clients().ecr.send(
          new BatchDeleteImageCommand({
            repositoryName: "web",
            imageIds: [{ imageDigest: digest }],
          }),
        );
        return ecrPush({ repository: "web", tag: "release-5", digest });
      },
      reason: /is no longer in ECR/,
    },
  ])("skips $name and records why", async (c) => {
    // Prepare
    await prepare();
    const event = await c.event();

    // Act
    const result = await handler(event);

    // Assess
    expect(result.started).toEqual([]);
    expect(result.skipped).toEqual([
      { service: undefined, reason: expect.stringMatching(c.reason) },
    ]);
    expect(await skips()).toEqual([
      expect.objectContaining({
        sk: Deploy.keys.skip(event.id),
        status: "SKIPPED",
        flow: "deploy",
        reason: expect.stringMatching(c.reason),
      }),
    ]);
  });
});
