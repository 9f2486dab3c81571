import { Config, Deploy } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { ecrDelete, ecrPush, ecrPushDigestOnly } from "../support/factories";

/** The deploy flow's pure core: parsing, planning, naming, the revision copy and admission. */

const DIGEST = `sha256:${"a".repeat(64)}`;
const deploys = (input: Config.DeployInput[]) =>
  Config.load({ app: "switchyard", deploys: input }, "test").deploys;

const web = deploys([
  {
    repository: "web",
    tags: ["release-*", "v[0-9]*"],
    services: [
      { cluster: "prod", service: "web", container: "app", roles: ["web-task"] },
      {
        cluster: "prod",
        service: "web",
        container: "worker",
        roles: ["arn:aws:iam::123456789012:role/web-exec"],
      },
      { cluster: "prod", service: "admin", container: "app" },
    ],
  },
  {
    repository: "sidecar",
    tags: ["*"],
    services: [{ cluster: "prod", service: "web", container: "proxy" }],
  },
]);

describe("Deploy.parseImageAction", () => {
  it.each([
    {
      name: "a tagged push",
      event: ecrPush({ repository: "web", tag: "release-1", digest: DIGEST }),
    },
    {
      name: "a digest-only push (image-tag is empty)",
      event: ecrPushDigestOnly({ repository: "web", digest: DIGEST }),
    },
    { name: "a delete", event: ecrDelete({ repository: "web", tag: "release-1", digest: DIGEST }) },
  ])("accepts $name in AWS's shape", ({ event }) => {
    // Act
    const parsed = Deploy.parseImageAction(event);
    // Assess
    expect(parsed.detail["repository-name"]).toBe("web");
    expect(parsed.id).toBe(event.id);
  });

  it.each([
    { name: "not an event", event: "hello", field: "(event)" },
    {
      name: "another detail-type",
      event: { ...ecrPush(), "detail-type": "Object Created" },
      field: "detail-type",
    },
    {
      name: "a push without digest",
      event: (() => {
        const e = ecrPush({ repository: "web", tag: "release-1" });
        const { "image-digest": _d, ...detail } = e.detail;
        return { ...e, detail };
      })(),
      field: "detail.image-digest",
    },
    {
      name: "a malformed digest",
      event: ecrPush({ repository: "web", tag: "release-1", digest: "sha256:xyz" }),
      field: "detail.image-digest",
    },
  ])("rejects $name, naming the field", ({ event, field }) => {
    // Act / Assess
    expect(() => Deploy.parseImageAction(event)).toThrow(
      expect.objectContaining({ name: "MalformedEvent", message: expect.stringContaining(field) }),
    );
  });
});

describe("Deploy.plan", () => {
  const detail = (over: Partial<Deploy.ImageActionDetail> = {}): Deploy.ImageActionDetail => ({
    "action-type": "PUSH",
    result: "SUCCESS",
    "repository-name": "web",
    "image-digest": DIGEST,
    "image-tag": "release-7",
    ...over,
  });

  it.each([
    { name: "a delete", over: { "action-type": "DELETE" }, reason: "action DELETE is not a push" },
    {
      name: "a failed push",
      over: { result: "FAILURE" },
      reason: "push result is FAILURE, not SUCCESS",
    },
    {
      name: "a digest-only push",
      over: { "image-tag": "" },
      reason: `digest-only push of web@${DIGEST}: no tag to match`,
    },
    {
      name: "an unknown repository",
      over: { "repository-name": "api" },
      reason: "repository 'api' is not configured in deploys",
    },
    {
      name: "a tag no pattern matches",
      over: { "image-tag": "latest" },
      reason: "tag 'latest' matches none of 'release-*', 'v[0-9]*'",
    },
    {
      name: "a tag that only contains the pattern",
      over: { "image-tag": "pre-release-1" },
      reason: "tag 'pre-release-1' matches none of 'release-*', 'v[0-9]*'",
    },
  ])("skips $name with the reason", ({ over, reason }) => {
    // Act
    const plan = Deploy.plan(web, detail(over as Partial<Deploy.ImageActionDetail>));
    // Assess
    expect(plan).toEqual({ action: "skip", reason, repository: over["repository-name"] ?? "web" });
  });

  it("groups the containers one repository feeds per service, one target per service", () => {
    // Act
    const plan = Deploy.plan(web, detail({ "image-tag": "v2.1.0" }));
    // Assess
    expect(plan).toMatchObject({
      action: "deploy",
      repository: "web",
      tag: "v2.1.0",
      digest: DIGEST,
      pattern: "v[0-9]*",
    });
    expect(plan.action === "deploy" && plan.targets).toEqual([
      {
        cluster: "prod",
        service: "web",
        containers: ["app", "worker"],
        roles: ["web-task", "web-exec"],
        rolloutTimeoutSeconds: 1800,
        pollSeconds: 15,
      },
      {
        cluster: "prod",
        service: "admin",
        containers: ["app"],
        roles: [],
        rolloutTimeoutSeconds: 1800,
        pollSeconds: 15,
      },
    ]);
  });

  it("updates only the container another repository feeds in a shared service", () => {
    // Act
    const plan = Deploy.plan(web, detail({ "repository-name": "sidecar", "image-tag": "1.4" }));
    // Assess
    expect(plan.action === "deploy" && plan.targets.map((t) => [t.service, t.containers])).toEqual([
      ["web", ["proxy"]],
    ]);
  });
});

describe("Deploy naming", () => {
  it.each([
    { cluster: "demo", service: "web", expected: `demo-web-${"a".repeat(32)}` },
    { cluster: "c", service: "s".repeat(200), expected: /^c-s{36}-[0-9a-f]{8}-a{32}$/ },
  ])(
    "names the execution for $cluster/$service within 80 characters",
    ({ cluster, service, expected }) => {
      // Act
      const name = Deploy.executionName(cluster, service, DIGEST);
      // Assess
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(expected instanceof RegExp ? expected : new RegExp(`^${expected}$`));
    },
  );

  it("keeps long names of different services apart", () => {
    const long = "s".repeat(100);
    expect(Deploy.executionName("c", `${long}-a`, DIGEST)).not.toBe(
      Deploy.executionName("c", `${long}-b`, DIGEST),
    );
  });

  it.each([
    { region: "us-east-1", uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web@${DIGEST}` },
    {
      region: "cn-north-1",
      uri: `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/web@${DIGEST}`,
    },
  ])("pins the image by digest in $region", ({ region, uri }) => {
    expect(
      Deploy.imageUri({
        registryId: "123456789012",
        region,
        repository: "team/web",
        digest: DIGEST,
      }),
    ).toBe(uri);
  });

  it.each([
    { timeout: 1800, every: 15, polls: 120 },
    { timeout: 10, every: 15, polls: 1 },
    { timeout: 100, every: 30, polls: 4 },
  ])(
    "follows a rollout for $timeout s at $every s in $polls polls",
    ({ timeout, every, polls }) => {
      expect(Deploy.maxPolls(timeout, every)).toBe(polls);
    },
  );
});

describe("Deploy.render", () => {
  const current: Deploy.TaskDefinition = {
    taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
    family: "web",
    revision: 7,
    status: "ACTIVE",
    registeredAt: "2026-11-01T00:00:00Z",
    registeredBy: "arn:aws:iam::123456789012:role/ci",
    requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awslogs" }],
    compatibilities: ["EC2", "FARGATE"],
    taskRoleArn: "arn:aws:iam::123456789012:role/web-task",
    executionRoleArn: "arn:aws:iam::123456789012:role/service/web-exec",
    networkMode: "awsvpc",
    cpu: "512",
    memory: "1024",
    requiresCompatibilities: ["FARGATE"],
    runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
    ephemeralStorage: { sizeInGiB: 30 },
    volumes: [{ name: "tmp" }],
    containerDefinitions: [
      {
        name: "app",
        image: "web:old",
        environment: [{ name: "MODE", value: "prod" }],
        secrets: [
          { name: "DB", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" },
        ],
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/web" } },
        dockerLabels: { "com.example.team": "web" },
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp" }],
      },
      { name: "worker", image: "web:old", command: ["worker"] },
      { name: "envoy", image: "envoy:1.30", essential: false },
    ],
  };
  const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${DIGEST}`;
  const roles = ["web-task", "web-exec"];

  it("copies every field, drops the read-only ones and pins only the named containers", () => {
    // Act
    const input = Deploy.render(current, [{ key: "team", value: "web" }], {
      containers: ["app", "worker"],
      image,
      roles,
    });

    // Assess
    const { containerDefinitions, ...rest } = input as {
      containerDefinitions: Deploy.ContainerDefinition[];
    };
    expect(rest).toEqual({
      family: "web",
      taskRoleArn: current.taskRoleArn,
      executionRoleArn: current.executionRoleArn,
      networkMode: "awsvpc",
      cpu: "512",
      memory: "1024",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
      ephemeralStorage: { sizeInGiB: 30 },
      volumes: [{ name: "tmp" }],
      tags: [{ key: "team", value: "web" }],
    });
    expect(containerDefinitions).toEqual([
      { ...current.containerDefinitions?.[0], image },
      { ...current.containerDefinitions?.[1], image },
      current.containerDefinitions?.[2],
    ]);
  });

  it.each([
    {
      name: "a container the task definition lacks",
      req: { containers: ["api"], roles },
      error: "ContainerNotFound",
      fix: "no container named 'api' (it has 'app', 'worker', 'envoy')",
    },
    {
      name: "a task role the config does not list",
      req: { containers: ["app"], roles: ["web-exec"] },
      error: "RoleNotAllowed",
      fix: "Fix: add 'web-task' to",
    },
    {
      name: "an execution role the config does not list",
      req: { containers: ["app"], roles: ["web-task"] },
      error: "RoleNotAllowed",
      fix: "Fix: add 'web-exec' to",
    },
  ])("refuses $name with the fix", ({ req, error, fix }) => {
    expect(() => Deploy.render(current, undefined, { ...req, image })).toThrow(
      expect.objectContaining({ name: error, message: expect.stringContaining(fix) }),
    );
  });
});

describe("Deploy.admit (never regress, never repeat)", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s));
  const head = (
    s: number,
    digest: string,
    state: "ADMITTED" | "STARTED" = "STARTED",
  ): Deploy.Head => ({
    orderKey: Deploy.orderKey(at(s), digest),
    digest,
    repository: "web",
    tag: "release-1",
    state,
  });
  const A = `sha256:${"a".repeat(64)}`;
  const B = `sha256:${"b".repeat(64)}`;

  it.each([
    { name: "the first image of a service", head: undefined, candidate: [10, A], admit: true },
    { name: "a newer image", head: head(10, A), candidate: [11, B], admit: true },
    {
      name: "an older image",
      head: head(10, B),
      candidate: [9, A],
      admit: false,
      reason: /^older image/,
    },
    {
      name: "the same image again",
      head: head(10, A),
      candidate: [10, A],
      admit: false,
      reason: /^duplicate/,
    },
    {
      name: "the same image whose start was interrupted",
      head: head(10, A, "ADMITTED"),
      candidate: [10, A],
      admit: true,
    },
    {
      name: "another image pushed the same instant, lower digest",
      head: head(10, B),
      candidate: [10, A],
      admit: false,
      reason: /^older image/,
    },
    {
      name: "another image pushed the same instant, higher digest",
      head: head(10, A),
      candidate: [10, B],
      admit: true,
    },
  ] as const)("$name → admit $admit", (c) => {
    // Act
    const decision = Deploy.admit(c.head, {
      orderKey: Deploy.orderKey(at(c.candidate[0]), c.candidate[1]),
      digest: c.candidate[1],
    });
    // Assess
    expect(decision.admit).toBe(c.admit);
    if (!decision.admit) expect(decision.reason).toMatch(("reason" in c && c.reason) || /./);
  });

  it("orders by push time before digest", () => {
    expect(Deploy.orderKey(at(9), B) < Deploy.orderKey(at(10), A)).toBe(true);
  });
});
