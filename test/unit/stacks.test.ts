import { Config, Topology } from "@switchyard/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import switchyardConfig from "../../switchyard.config";
import { installSstFake, resolve, type SstFake, uninstallSstFake } from "../support/sst-fake";

/**
 * Runs the real sst.config.ts and stacks/* against a recording fake of SST's globals and
 * checks that what they create is exactly the topology built from the same config: the
 * "one topology, two backends" parity on the SST side.
 *
 * Modules are loaded through a variable specifier so the root tsconfig (which has no SST
 * globals) does not type-check them here; `tsc -p stacks` does that against SST's real types.
 */
const load = (path: string): Promise<Record<string, unknown>> =>
  import(/* @vite-ignore */ `../../${path}`);
const CONFIG_MODULE = "../../switchyard.config";
const TARGETS_MODULE = "../../stacks/targets";

interface AppSettings {
  name: string;
  removal: string;
  protect: boolean;
  home: string;
  providers: { aws: { region: string } };
}
interface SstApp {
  app(input: { stage: string }): Promise<AppSettings>;
  run(): Promise<Record<string, unknown>>;
}
interface Deployed {
  fake: SstFake;
  app: AppSettings;
  outputs: unknown;
  topology: Topology.Topology;
  pendingFlows: readonly string[];
}

const T = {
  rule: "aws.cloudwatch.EventRule",
  target: "aws.cloudwatch.EventTarget",
  archive: "aws.cloudwatch.EventArchive",
  alarm: "aws.cloudwatch.MetricAlarm",
  queue: "sst.aws.Queue",
  queuePolicy: "aws.sqs.QueuePolicy",
  table: "sst.aws.Dynamo",
  role: "aws.iam.Role",
  rolePolicy: "aws.iam.RolePolicy",
  oidcProvider: "aws.iam.OpenIdConnectProvider",
  permission: "aws.lambda.Permission",
} as const;

/** Runs `app()` and `run()` of sst.config.ts for `stage`, optionally with another config and registered targets. */
async function deploy(
  stage: string,
  options: {
    input?: Config.ConfigInput;
    register?: Record<string, { arn: string }>;
    /** Replaces PENDING_FLOWS, as if a flow's stack had landed. */
    pendingFlows?: string[];
    /** Flow stacks replaced by an empty module, as if they did not exist yet (e.g. "promote"). */
    withoutStacks?: string[];
  } = {},
): Promise<Deployed> {
  const fake = installSstFake(stage);
  vi.resetModules();
  if (options.input) vi.doMock(CONFIG_MODULE, () => ({ default: options.input }));
  const pendingFlows = options.pendingFlows;
  if (pendingFlows) {
    vi.doMock(TARGETS_MODULE, async (original: () => Promise<Record<string, unknown>>) => ({
      ...(await original()),
      PENDING_FLOWS: pendingFlows,
    }));
  }
  for (const flow of options.withoutStacks ?? [])
    vi.doMock(`../../stacks/${flow}`, () => ({ [flow]: undefined }));
  const sstConfig = (await load("sst.config.ts")).default as SstApp;
  const app = await sstConfig.app({ stage });
  if (options.register) {
    const targets = await load("stacks/targets.ts");
    const registerTarget = targets.registerTarget as (id: string, t: { arn: string }) => void;
    for (const [id, target] of Object.entries(options.register)) registerTarget(id, target);
  }
  const outputs = resolve(await sstConfig.run());
  const targets = await load("stacks/targets.ts");
  const topology = Topology.build(Config.load(options.input ?? switchyardConfig, stage));
  return {
    fake,
    app,
    outputs,
    topology,
    pendingFlows: targets.PENDING_FLOWS as readonly string[],
  };
}

afterEach(() => {
  for (const flow of ["deploy", "ingest", "promote"]) vi.doUnmock(`../../stacks/${flow}`);
  vi.doUnmock(CONFIG_MODULE);
  vi.doUnmock(TARGETS_MODULE);
  vi.unstubAllEnvs();
  uninstallSstFake();
});

const args = (fake: SstFake, type: string, name: string) =>
  resolve(fake.get(type, name).args) as Record<string, unknown>;
const json = (value: unknown): Record<string, unknown> => JSON.parse(String(resolve(value)));
const activeRules = (d: Deployed) =>
  d.topology.rules.filter((r) => r.target.kind === "queue" || !d.pendingFlows.includes(r.flow));

const withGitHub = (github: Config.ConfigInput["github"]): Config.ConfigInput => ({
  ...(switchyardConfig as Config.ConfigInput),
  github,
});
const withoutGitHub = (): Config.ConfigInput => {
  const { github: _github, ...rest } = switchyardConfig as Config.ConfigInput;
  return rest;
};

describe.each(["local", "staging", "production"])(
  "stage %s: routing equals the topology",
  (stage) => {
    it("creates exactly the topology's rules minus those of pending flows, with their names and patterns", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      const created = d.fake.ofType(T.rule).map((r) => resolve(r.args) as Record<string, unknown>);
      const expected = activeRules(d);
      expect(created.map((r) => r.name).sort()).toEqual(expected.map((r) => r.name).sort());
      for (const rule of expected) {
        const a = args(d.fake, T.rule, rule.id);
        expect(a.name).toBe(rule.name);
        expect(a.description).toBe(rule.description);
        expect(JSON.parse(String(a.eventPattern))).toEqual(rule.pattern);
        expect(a.eventBusName).toBe("aws.cloudwatch.getEventBusOutput(default).name");
      }
      expect(expected.length).toBeGreaterThan(0);
    });

    it("warns about each skipped rule of a pending flow", async () => {
      // Act: as if the promote stack had not landed yet
      const d = await deploy(stage, { pendingFlows: ["promote"], withoutStacks: ["promote"] });

      // Assess
      const skipped = d.topology.rules.filter((r) => !activeRules(d).includes(r));
      expect(skipped.length).toBeGreaterThan(0);
      for (const rule of skipped) {
        expect(d.fake.logs).toContainEqual({
          level: "warn",
          message: expect.stringContaining(rule.name),
        });
      }
    });

    it("gives every target the rule's DLQ and retry policy, and delivers queue targets to their queue", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      const dlqArns = new Set(
        d.topology.queues.filter((q) => q.deadLetter).map((q) => d.fake.ref(T.queue, q.id, "arn")),
      );
      const targets = d.fake
        .ofType(T.target)
        .map((t) => resolve(t.args) as Record<string, unknown>);
      expect(targets).toHaveLength(d.fake.ofType(T.rule).length);
      for (const target of targets) {
        expect(dlqArns).toContain((target.deadLetterConfig as { arn: string }).arn);
      }
      for (const rule of activeRules(d)) {
        const a = args(d.fake, T.target, `${rule.id}Target`);
        expect(a.rule).toBe(d.fake.ref(T.rule, rule.id, "name"));
        expect(a.deadLetterConfig).toEqual({
          arn: d.fake.ref(T.queue, rule.target.deadLetterQueue, "arn"),
        });
        expect(a.retryPolicy).toEqual({
          maximumRetryAttempts: rule.target.maximumRetryAttempts,
          maximumEventAgeInSeconds: rule.target.maximumEventAgeSeconds,
        });
        if (rule.target.kind === "queue")
          expect(a.arn).toBe(d.fake.ref(T.queue, rule.target.queue, "arn"));
      }
    });

    it("creates every DLQ with an alarm on its first visible message", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      const dlqs = d.topology.queues.filter((q) => q.deadLetter);
      expect(dlqs.length).toBeGreaterThan(0);
      for (const q of dlqs) {
        const alarm = d.topology.alarms.find((a) => a.queue === q.id);
        expect(alarm, `alarm for ${q.id}`).toBeDefined();
        expect(args(d.fake, T.alarm, alarm?.id ?? "")).toMatchObject({
          name: alarm?.name,
          alarmDescription: alarm?.description,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: d.fake.ref(T.queue, q.id, "nodes.queue.name") },
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
        expect(args(d.fake, T.queue, q.id)).toMatchObject({
          transform: { queue: { name: q.name, messageRetentionSeconds: q.retentionSeconds } },
        });
      }
      expect(d.fake.ofType(T.alarm)).toHaveLength(dlqs.length);
    });

    it("redrives every source queue into its DLQ with the topology's settings", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      for (const q of d.topology.queues.filter((x) => !x.deadLetter)) {
        expect(args(d.fake, T.queue, q.id)).toEqual({
          visibilityTimeout: `${q.visibilityTimeoutSeconds} seconds`,
          dlq: {
            queue: d.fake.ref(T.queue, q.redrive?.deadLetterQueue ?? "", "arn"),
            retry: q.redrive?.maxReceiveCount,
          },
          transform: { queue: { name: q.name, messageRetentionSeconds: q.retentionSeconds } },
        });
      }
    });

    it("lets EventBridge send to each queue only from the rules that use it", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      const senders = new Map<string, string[]>();
      for (const rule of activeRules(d)) {
        const arn = d.fake.ref(T.rule, rule.id, "arn");
        const ids = [
          rule.target.deadLetterQueue,
          ...(rule.target.kind === "queue" ? [rule.target.queue] : []),
        ];
        for (const id of ids) senders.set(id, [...(senders.get(id) ?? []), arn]);
      }
      expect(
        d.fake
          .ofType(T.queuePolicy)
          .map((p) => p.name)
          .sort(),
      ).toEqual([...senders.keys()].map((id) => `${id}Policy`).sort());
      for (const [queueId, ruleArns] of senders) {
        const a = args(d.fake, T.queuePolicy, `${queueId}Policy`);
        expect(a.queueUrl).toBe(d.fake.ref(T.queue, queueId, "url"));
        expect(json(a.policy).Statement).toEqual([
          {
            Sid: "EventBridgeRules",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: d.fake.ref(T.queue, queueId, "arn"),
            Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
          },
        ]);
      }
    });

    it("creates the ledger table from the topology", async () => {
      // Act
      const d = await deploy(stage);

      // Assess
      const table = d.topology.tables.find((t) => t.id === "Ledger");
      expect(table).toBeDefined();
      if (!table) return;
      expect(args(d.fake, T.table, table.id)).toEqual({
        fields: { pk: "string", sk: "string", flow: "string", at: "string" },
        primaryIndex: { hashKey: table.partitionKey, rangeKey: table.sortKey },
        globalIndexes: Object.fromEntries(
          table.indexes.map((i) => [
            i.name,
            { hashKey: i.partitionKey, rangeKey: i.sortKey, projection: "all" },
          ]),
        ),
        ttl: table.ttlAttribute,
        deletionProtection: d.topology.production,
        transform: { table: { name: table.name } },
      });
    });
  },
);

describe("archive", () => {
  it.each([
    { stage: "local", simulated: true },
    { stage: "production", simulated: false },
  ])(
    "$stage: pattern and retention equal the topology's (simulated source: $simulated)",
    async (c) => {
      // Act
      const d = await deploy(c.stage);

      // Assess
      const a = args(d.fake, T.archive, d.topology.archive.id);
      expect(a.name).toBe(d.topology.archive.name);
      expect(a.retentionDays).toBe(d.topology.archive.retentionDays);
      expect(JSON.parse(String(a.eventPattern))).toEqual(d.topology.archive.pattern);
      expect(a.eventSourceArn).toBe("aws.cloudwatch.getEventBusOutput(default).arn");
      expect(String(a.eventPattern).includes(Topology.SIMULATED_SOURCE)).toBe(c.simulated);
    },
  );

  it("keeps stages apart: production retains longer than local", async () => {
    // Act
    const local = await deploy("local");
    const production = await deploy("production");

    // Assess
    const retention = (d: Deployed) => args(d.fake, T.archive, "Archive").retentionDays;
    expect(retention(local)).toBe(1);
    expect(retention(production)).toBe(90);
  });
});

describe("github-oidc", () => {
  it.each([
    {
      name: "the configured repository",
      input: undefined,
      subjects: [
        "repo:switchyard-dev/switchyard:ref:refs/heads/main",
        "repo:switchyard-dev/switchyard:environment:staging",
        "repo:switchyard-dev/switchyard:environment:production",
      ],
    },
    {
      name: "another repository, branch and environment",
      input: withGitHub({
        repository: "acme/control-plane",
        branch: "trunk",
        environments: ["prod"],
      }),
      subjects: [
        "repo:acme/control-plane:ref:refs/heads/trunk",
        "repo:acme/control-plane:environment:prod",
      ],
    },
  ])("trusts only the branch and environments of $name", async (c) => {
    // Act
    const d = await deploy("bootstrap", { input: c.input });

    // Assess
    const trust = json(args(d.fake, T.role, "GitHubDeployRole").assumeRolePolicy);
    expect(trust.Statement).toEqual([
      {
        Sid: "GitHubActions",
        Effect: "Allow",
        Principal: { Federated: d.fake.ref(T.oidcProvider, "GitHubOidcProvider", "arn") },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": c.subjects,
          },
        },
      },
    ]);
    expect(JSON.stringify(trust)).not.toMatch(/StringLike|:\*/);
    expect(args(d.fake, T.oidcProvider, "GitHubOidcProvider")).toEqual({
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
    });
    expect(d.outputs).toEqual({
      deployRoleArn: d.fake.ref(T.role, "GitHubDeployRole", "arn"),
      oidcProviderArn: d.fake.ref(T.oidcProvider, "GitHubOidcProvider", "arn"),
    });
  });

  it("creates only the OIDC resources on the bootstrap stage", async () => {
    // Act
    const d = await deploy("bootstrap");

    // Assess
    expect(d.fake.resources.map((r) => r.type).sort()).toEqual([
      T.oidcProvider,
      T.role,
      T.rolePolicy,
    ]);
  });

  it("reuses an existing provider given by SWITCHYARD_GITHUB_OIDC_PROVIDER_ARN", async () => {
    // Prepare
    const existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    vi.stubEnv("SWITCHYARD_GITHUB_OIDC_PROVIDER_ARN", existing);

    // Act
    const d = await deploy("bootstrap");

    // Assess
    expect(d.fake.ofType(T.oidcProvider)).toEqual([]);
    const trust = json(args(d.fake, T.role, "GitHubDeployRole").assumeRolePolicy);
    expect(trust.Statement).toMatchObject([{ Principal: { Federated: existing } }]);
  });

  it.each([
    {
      name: "without a github section on the bootstrap stage",
      stage: "bootstrap",
      input: withoutGitHub(),
    },
    { name: "on a control-plane stage", stage: "production", input: undefined },
  ])("creates nothing $name", async (c) => {
    // Act
    const d = await deploy(c.stage, { input: c.input });

    // Assess
    expect(d.fake.ofType(T.oidcProvider)).toEqual([]);
    expect(d.fake.resources.filter((r) => r.name.startsWith("GitHub"))).toEqual([]);
    if (c.stage === "bootstrap") {
      expect(d.fake.logs).toContainEqual({
        level: "info",
        message: expect.stringContaining("github-oidc: skipped"),
      });
    }
  });
});

describe("flow targets", () => {
  it("routes the deploy rule to the deploy stack's handler, with a Lambda permission for that rule only", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const rule = d.topology.rules.find(
      (r) => r.target.kind === "function" && r.target.function === "DeployHandler",
    );
    expect(rule).toBeDefined();
    if (!rule) return;
    const fn = d.fake.ref("sst.aws.Function", "DeployHandler", "arn");
    expect(args(d.fake, T.target, `${rule.id}Target`)).toMatchObject({ arn: fn });
    expect(args(d.fake, T.permission, `${rule.id}Permission`)).toEqual({
      action: "lambda:InvokeFunction",
      function: fn,
      principal: "events.amazonaws.com",
      sourceArn: d.fake.ref(T.rule, rule.id, "arn"),
    });
    expect(d.fake.logs.map((l) => l.message).join("\n")).not.toContain(rule.name);
  });

  it("names the stack to import when a flow is no longer pending but nothing registered its target", async () => {
    // Act
    const run = deploy("local", { pendingFlows: [], withoutStacks: ["promote"] });

    // Assess
    await expect(run).rejects.toThrow(
      /rule 'PromoteApiArtifactUploaded' \(flow 'promote'\) targets state-machine 'PromoteWorkflow'.*import "\.\/stacks\/promote" before "\.\/stacks\/routing"/,
    );
  });

  it("starts a state machine through a role limited to it and trusted for that rule only", async () => {
    // Prepare
    const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-local-promote";
    const rule = "PromoteApiArtifactUploaded";
    // Act
    const d = await deploy("local", {
      withoutStacks: ["promote"],
      register: { PromoteWorkflow: { arn: sm } },
    });

    // Assess
    const role = args(d.fake, T.role, `${rule}InvokeRole`);
    expect(json(role.assumeRolePolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { ArnEquals: { "aws:SourceArn": d.fake.ref(T.rule, rule, "arn") } },
      },
    ]);
    expect(json(args(d.fake, T.rolePolicy, `${rule}InvokePolicy`).policy).Statement).toEqual([
      { Effect: "Allow", Action: "states:StartExecution", Resource: sm },
    ]);
    expect(args(d.fake, T.target, `${rule}Target`)).toMatchObject({
      arn: sm,
      roleArn: d.fake.ref(T.role, `${rule}InvokeRole`, "arn"),
    });
  });

  it("refuses a registered target that no rule uses", async () => {
    // Act
    const run = deploy("local", { register: { DeployHandlr: { arn: "arn:aws:lambda:x" } } });

    // Assess
    await expect(run).rejects.toThrow(/registered target 'DeployHandlr'.*no rule/);
  });
});

describe("IAM", () => {
  /** Every policy document in the recorded arguments (JSON strings or objects with a Statement). */
  const policyDocuments = (fake: SstFake): { Statement: Record<string, unknown>[] }[] => {
    const found: { Statement: Record<string, unknown>[] }[] = [];
    const visit = (value: unknown): void => {
      if (typeof value === "string" && value.trimStart().startsWith("{")) {
        try {
          visit(JSON.parse(value));
        } catch {
          // not JSON
        }
      } else if (Array.isArray(value)) {
        value.forEach(visit);
      } else if (typeof value === "object" && value !== null) {
        const doc = value as { Statement?: unknown };
        if (Array.isArray(doc.Statement))
          found.push(doc as { Statement: Record<string, unknown>[] });
        Object.values(value).forEach(visit);
      }
    };
    for (const r of fake.resources) visit(resolve(r.args));
    return found;
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  /** Actions the topology allows on `*`, each statement with its reason (e.g. ecs:RegisterTaskDefinition). */
  const wildcardActions = (t: Topology.Topology) =>
    [...t.functions, ...t.stateMachines].flatMap((x) =>
      x.permissions
        .filter((p) => p.resources.includes("*") && p.wildcardReason)
        .flatMap((p) => p.actions),
    );

  it.each<{
    name: string;
    stage: string;
    register?: Record<string, { arn: string }>;
    pendingFlows?: string[];
  }>([
    { name: "local", stage: "local", register: undefined },
    { name: "production", stage: "production", register: undefined },
    { name: "bootstrap (deploy role)", stage: "bootstrap", register: undefined },
  ])(
    "$name: no statement allows Action '*', nor Resource '*' without a documented need",
    async (c) => {
      // Act
      const d = await deploy(c.stage, { register: c.register, pendingFlows: c.pendingFlows });

      // Assess
      const statements = policyDocuments(d.fake).flatMap((doc) => doc.Statement);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        expect(list(s.Action), JSON.stringify(s)).not.toContain("*");
        if (list(s.Resource ?? []).includes("*")) {
          expect(String(s.Sid), JSON.stringify(s)).toMatch(/WildcardRequired/);
          expect(wildcardActions(d.topology), JSON.stringify(s)).toEqual(
            expect.arrayContaining(list(s.Action)),
          );
        }
        expect(s.NotAction, JSON.stringify(s)).toBeUndefined();
        expect(s.NotResource, JSON.stringify(s)).toBeUndefined();
      }
    },
  );

  it("scopes the deploy role to the app's resources and denies it changes to itself", async () => {
    // Act
    const d = await deploy("bootstrap");

    // Assess
    const document = String(args(d.fake, T.rolePolicy, "GitHubDeployPolicy").policy);
    const policy = json(document);
    // IAM's limit for a role's inline policies (placeholders are longer than real ARNs).
    expect(document.length).toBeLessThan(10_240);
    const statements = policy.Statement as { Sid: string; Effect: string; Resource: string[] }[];
    for (const s of statements.filter((x) => x.Effect === "Allow")) {
      for (const resource of s.Resource) {
        expect(resource, s.Sid).toMatch(
          /(:switchyard-\*|[:/]switchyard-\*|:::sst-(state|asset)-\*|parameter\/sst\/\*|event-bus\/default|event-source-mapping:\*|log-group:\*|:::demo-[a-z]+|:::switchyard-[a-z0-9-]+)(\/\*)?$/,
        );
      }
    }
    expect(statements.at(-1)).toMatchObject({
      Effect: "Deny",
      Action: ["iam:*"],
      Resource: [expect.stringMatching(/:role\/github-deploy-switchyard$/)],
    });
  });
});

/** An ARN built from the stack's partition/region/account lookups (placeholders in the fake). */
const accountArn = (tail: string) =>
  expect.stringMatching(
    new RegExp(
      `^arn:aws\\.getPartitionOutput\\(\\d*\\)\\.partition:${tail
        .replace("{region}", "aws\\.getRegionOutput\\(\\d*\\)\\.name")
        .replace("{account}", "aws\\.getCallerIdentityOutput\\(\\d*\\)\\.accountId")}$`,
    ),
  );

describe("deploy stack", () => {
  it("deploys the workflow's own ASL with the ledger and revision function it references", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const sm = args(d.fake, "aws.sfn.StateMachine", "DeployWorkflowStateMachine");
    const def = d.topology.stateMachines.find((s) => s.id === "DeployWorkflow");
    expect(sm).toMatchObject({
      name: def?.name,
      type: "STANDARD",
      roleArn: d.fake.ref(T.role, "DeployWorkflowRole", "arn"),
    });
    const { definition } = await import("../../workflows/deploy");
    expect(json(sm.definition)).toEqual(
      definition({
        topology: d.topology,
        resources: {
          Ledger: { name: d.fake.ref(T.table, "Ledger", "name") },
          DeployRevision: { arn: d.fake.ref("sst.aws.Function", "DeployRevision", "arn") },
        },
      }),
    );
  });

  it("gives the workflow role exactly the topology's statements, on the configured service ARNs", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const trust = json(args(d.fake, T.role, "DeployWorkflowRole").assumeRolePolicy)
      .Statement as unknown[];
    expect(trust).toEqual([
      expect.objectContaining({ Principal: { Service: "states.amazonaws.com" } }),
    ]);
    const statements = json(args(d.fake, T.rolePolicy, "DeployWorkflowPolicy").policy)
      .Statement as { Action: string[]; Resource: string[] }[];
    expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
      [
        ["ecs:DescribeServices", "ecs:UpdateService"],
        [accountArn("ecs:{region}:{account}:service/demo/web")],
      ],
      [["lambda:InvokeFunction"], [d.fake.ref("sst.aws.Function", "DeployRevision", "arn")]],
      [["dynamodb:UpdateItem"], [d.fake.ref(T.table, "Ledger", "arn")]],
    ]);
  });

  it("links the handler to the ledger, workflow and deploy config, with its async failures going to the deploy DLQ", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const fn = args(d.fake, "sst.aws.Function", "DeployHandler");
    expect(fn).toMatchObject({ handler: "functions/deploy.handler", runtime: "nodejs22.x" });
    const dlq = d.fake.ref(T.queue, "DeployDlq", "arn");
    expect(fn.transform).toEqual({ function: { deadLetterConfig: { targetArn: dlq } } });
    expect(
      args(d.fake, "aws.lambda.FunctionEventInvokeConfig", "DeployHandlerInvokeConfig"),
    ).toMatchObject({
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: dlq } },
    });
    expect(args(d.fake, "sst.Linkable", "DeployConfig").properties).toEqual({
      deploys: d.topology.settings[0]?.value.deploys,
    });
    const permissions = fn.permissions as { actions: string[]; resources: string[] }[];
    expect(permissions.map((p) => p.actions)).toEqual([
      ["ecr:DescribeImages"],
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      ["states:StartExecution"],
      ["sqs:SendMessage"],
    ]);
    expect(permissions[2]?.resources).toEqual([
      d.fake.ref("aws.sfn.StateMachine", "DeployWorkflowStateMachine", "arn"),
    ]);
  });

  it("lets the revision function pass only the configured task roles, to ECS tasks", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const permissions = args(d.fake, "sst.aws.Function", "DeployRevision").permissions as {
      actions: string[];
      resources: string[];
      conditions: unknown[];
    }[];
    const passRole = permissions.find((p) => p.actions.includes("iam:PassRole"));
    expect(passRole).toEqual({
      actions: ["iam:PassRole"],
      resources: [accountArn("iam::{account}:role/demo-web-execution")],
      conditions: [
        {
          test: "StringEquals",
          variable: "iam:PassedToService",
          values: ["ecs-tasks.amazonaws.com"],
        },
      ],
    });
    for (const p of permissions.filter((x) => x.resources.includes("*")))
      expect(p.actions).toEqual(["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]);
  });
});

describe("ingest stack", () => {
  it("reads every dataset queue with the configured batch size and window, reporting partial failures", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const fn = d.topology.functions.find((f) => f.id === "IngestHandler");
    expect(fn?.queues.length).toBeGreaterThan(0);
    for (const source of fn?.queues ?? []) {
      expect(args(d.fake, "aws.lambda.EventSourceMapping", `${source.queue}Mapping`)).toEqual({
        eventSourceArn: d.fake.ref(T.queue, source.queue, "arn"),
        functionName: d.fake.ref("sst.aws.Function", "IngestHandler", "name"),
        batchSize: source.batchSize,
        maximumBatchingWindowInSeconds: source.windowSeconds,
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
    }
  });

  it("lets the workflow run only the configured Glue jobs and invoke only the refresh function", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const statements = json(args(d.fake, T.rolePolicy, "IngestWorkflowPolicy").policy)
      .Statement as {
      Action: string[];
      Resource: string[];
    }[];
    expect(statements[0]?.Resource).toEqual([
      accountArn("glue:{region}:{account}:job/orders-clean"),
      accountArn("glue:{region}:{account}:job/orders-curate"),
    ]);
    expect(statements[1]).toMatchObject({
      Action: ["lambda:InvokeFunction"],
      Resource: [d.fake.ref("sst.aws.Function", "IngestRefresh", "arn")],
    });
  });

  it("gives the refresh function the Snowflake key's secret and nothing else of Secrets Manager", async () => {
    // Act
    const d = await deploy("production");

    // Assess
    const permissions = args(d.fake, "sst.aws.Function", "IngestRefresh").permissions as {
      actions: string[];
      resources: string[];
    }[];
    expect(permissions).toContainEqual(
      expect.objectContaining({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [
          "arn:aws:secretsmanager:us-east-1:123456789012:secret:switchyard/snowflake-private-key",
        ],
      }),
    );
    expect(args(d.fake, "sst.Linkable", "Snowflake").properties).toMatchObject({
      account: "switchyard-analytics",
    });
    expect(args(d.fake, "sst.aws.Bucket", "Manifests").transform).toMatchObject({
      bucket: { bucket: "switchyard-production-manifests", forceDestroy: false },
    });
  });
});

describe("promote stack", () => {
  it("creates the versioned artifact bucket with EventBridge notifications on", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    expect(args(d.fake, "sst.aws.Bucket", "Artifactsdemoartifacts")).toMatchObject({
      versioning: true,
      transform: { bucket: { bucket: "demo-artifacts", forceDestroy: true } },
    });
    expect(
      args(d.fake, "aws.s3.BucketNotification", "ArtifactsdemoartifactsNotifications"),
    ).toEqual({
      bucket: d.fake.ref("sst.aws.Bucket", "Artifactsdemoartifacts", "name"),
      eventbridge: true,
    });
  });

  it("scopes the workflow role to the configured function, its alias, the artifact prefix, the named alarms and its own executions", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const statements = json(args(d.fake, T.rolePolicy, "PromoteWorkflowPolicy").policy)
      .Statement as { Action: string[]; Resource: string[] }[];
    const fn = (tail = "") => accountArn(`lambda:{region}:{account}:function:api${tail}`);
    expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
      [
        ["lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode", "lambda:PublishVersion"],
        [fn()],
      ],
      [["lambda:GetAlias", "lambda:UpdateAlias"], [fn(":live")]],
      [
        ["s3:GetObject", "s3:GetObjectVersion"],
        [expect.stringMatching(/^arn:.*:s3:::demo-artifacts\/api\/\*$/)],
      ],
      [
        ["cloudwatch:DescribeAlarms"],
        [accountArn("cloudwatch:{region}:{account}:alarm:api-errors")],
      ],
      [
        ["lambda:InvokeFunction"],
        ["PromoteAdmit", "PromoteResolve", "PromoteApproval"].map((id) =>
          d.fake.ref("sst.aws.Function", id, "arn"),
        ),
      ],
      [["dynamodb:UpdateItem"], [d.fake.ref(T.table, "Ledger", "arn")]],
      [
        ["states:StopExecution"],
        [accountArn("states:{region}:{account}:execution:switchyard-local-promote:\\*")],
      ],
    ]);
  });

  it("is the target of the artifact rule, through a role that may only start it", async () => {
    // Act
    const d = await deploy("local");

    // Assess
    const rule = "PromoteApiArtifactUploaded";
    expect(args(d.fake, T.target, `${rule}Target`)).toMatchObject({
      arn: d.fake.ref("aws.sfn.StateMachine", "PromoteWorkflowStateMachine", "arn"),
    });
    expect(json(args(d.fake, T.rolePolicy, `${rule}InvokePolicy`).policy).Statement).toEqual([
      {
        Effect: "Allow",
        Action: "states:StartExecution",
        Resource: d.fake.ref("aws.sfn.StateMachine", "PromoteWorkflowStateMachine", "arn"),
      },
    ]);
  });
});
