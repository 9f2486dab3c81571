import { createHash } from "node:crypto";
import type { ResolvedConfig } from "../config/load";
import { type EventPattern, keyMatcher } from "./pattern";

/**
 * The topology is everything Switchyard puts into an AWS account, derived from the
 * resolved config by pure code. `stacks/` turns it into SST/Pulumi resources and
 * `packages/local` turns it into resources in the local emulator. Ids are the
 * logical names that handlers see through `Resource.<Id>`.
 */

export type Flow = "deploy" | "ingest" | "promote";

export const SIMULATED_SOURCE = "switchyard.simulated";

/** An IAM statement. Resource ARNs may contain `{partition}`, `{region}` and `{account}`. */
export interface Statement {
  actions: string[];
  resources: string[];
  /** Why a statement needs `*`, when it must. Tests reject a wildcard without one. */
  wildcardReason?: string;
  /** IAM condition block, e.g. `{ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }`. */
  condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * ARNs of the topology's own resources inside statements: `ref:<id>` (e.g. `ref:Ledger`) stands
 * for that resource's ARN and `ref:<id>/index/*` for a path under it. The stacks substitute
 * Pulumi outputs; the local runtime ignores IAM.
 */
export const ref = (id: string, suffix = ""): string => `ref:${id}${suffix}`;

export interface QueueDef {
  id: string;
  /** Physical name used where Switchyard names the queue itself (the local emulator). */
  name: string;
  flow: Flow | "core";
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  /** Set on source queues: failed messages move to this DLQ after `maxReceiveCount` receives. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
  /** True for dead-letter queues; each has an alarm. */
  deadLetter: boolean;
}

export type TargetDef =
  | {
      kind: "function";
      function: string;
      deadLetterQueue: string;
      maximumRetryAttempts: number;
      maximumEventAgeSeconds: number;
    }
  | {
      kind: "queue";
      queue: string;
      deadLetterQueue: string;
      maximumRetryAttempts: number;
      maximumEventAgeSeconds: number;
    }
  | {
      kind: "state-machine";
      stateMachine: string;
      deadLetterQueue: string;
      maximumRetryAttempts: number;
      maximumEventAgeSeconds: number;
    };

export interface RuleDef {
  id: string;
  name: string;
  flow: Flow;
  description: string;
  pattern: EventPattern;
  target: TargetDef;
}

export interface FunctionDef {
  id: string;
  flow: Flow;
  /** Entry point relative to the repository root, e.g. `functions/deploy.handler`. */
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Ids of topology resources the function links to (read via `Resource`). */
  link: string[];
  /** Queue event sources, with their batching. */
  queues: { queue: string; batchSize: number; windowSeconds: number }[];
  /** Where failed asynchronous invocations go. Unset for queue-driven functions (the queue's redrive handles them). */
  asyncDeadLetterQueue?: string;
  permissions: Statement[];
}

export interface StateMachineDef {
  id: string;
  name: string;
  flow: Flow;
  /** Module under `workflows/` that builds the ASL. */
  workflow: Flow;
  type: "STANDARD";
  link: string[];
  permissions: Statement[];
}

export interface TableDef {
  id: string;
  name: string;
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  /** Global secondary indexes, projected ALL. */
  indexes: { name: string; partitionKey: string; sortKey: string }[];
}

export interface BucketDef {
  /** Set on buckets Switchyard links to handlers (e.g. `Manifests`). */
  id?: string;
  /** Buckets are referenced by their real name: data buckets usually belong to their producers. */
  name: string;
  /** Sends its events to EventBridge (source buckets); false for Switchyard's own scratch buckets. */
  eventBridge?: boolean;
  flow: Flow;
  /** Switchyard creates and owns it (artifact buckets); otherwise it only needs EventBridge notifications turned on. */
  managed: boolean;
  versioned: boolean;
}

/** Configuration handlers read at runtime, linked like a resource (`sst.Linkable` when deployed). */
export interface SettingDef {
  id: string;
  flow: Flow;
  value: Record<string, unknown>;
}

export interface AlarmDef {
  id: string;
  name: string;
  /** The DLQ the alarm watches. */
  queue: string;
  description: string;
}

export interface Topology {
  app: string;
  stage: string;
  region: string;
  production: boolean;
  /** Event sources rules accept. */
  sources: string[];
  archive: { id: "Archive"; name: string; retentionDays: number; pattern: EventPattern };
  tables: TableDef[];
  queues: QueueDef[];
  rules: RuleDef[];
  functions: FunctionDef[];
  stateMachines: StateMachineDef[];
  buckets: BucketDef[];
  alarms: AlarmDef[];
  settings: SettingDef[];
}

/** `LedgerTable`-style id from parts: `pascal("ingest", "orders-2", "dlq")` → `IngestOrders2Dlq`. */
export const pascal = (...parts: string[]): string =>
  parts
    .flatMap((p) => p.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((p) => p[0]?.toUpperCase() + p.slice(1))
    .join("");

/** A physical name `<app>-<stage>-<suffix>` that fits `max` characters (hash-shortened if needed). */
export function physicalName(app: string, stage: string, suffix: string, max = 64): string {
  const full = `${app}-${stage}-${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, max - 9)}-${hash}`;
}

const RETRY = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 } as const;
const FOUR_DAYS = 4 * 86_400;
const FOURTEEN_DAYS = 14 * 86_400;

/** Builds the topology for one stage. Pure: same config, same topology. */
export function build(config: ResolvedConfig): Topology {
  const { app, stage } = config;
  const name = (suffix: string, max = 64) => physicalName(app, stage, suffix, max);
  const sources = (aws: string) => (config.production ? [aws] : [aws, SIMULATED_SOURCE]);

  const queues: QueueDef[] = [];
  const alarms: AlarmDef[] = [];
  const rules: RuleDef[] = [];
  const functions: FunctionDef[] = [];
  const stateMachines: StateMachineDef[] = [];
  const buckets: BucketDef[] = [];
  const settings: SettingDef[] = [];

  /** Every DLQ follows one convention: 14 days' retention and an alarm on the first message. */
  const deadLetterQueue = (flow: Flow, ...parts: string[]): string => {
    const id = pascal(...parts, "dlq");
    const q: QueueDef = {
      id,
      name: name([...parts, "dlq"].join("-"), 80),
      flow,
      visibilityTimeoutSeconds: 30,
      retentionSeconds: FOURTEEN_DAYS,
      deadLetter: true,
    };
    queues.push(q);
    alarms.push({
      id: `${id}Alarm`,
      name: name(`${[...parts, "dlq"].join("-")}-not-empty`, 255),
      queue: id,
      description: `Dead letters waiting in ${q.name}: each holds the original event and its error. Inspect with \`switchyard dlq list --stage ${stage} --queue ${id}\`.`,
    });
    return id;
  };

  const ledger: TableDef = {
    id: "Ledger",
    name: name("ledger", 255),
    partitionKey: "pk",
    sortKey: "sk",
    ttlAttribute: "expiresAt",
    indexes: [{ name: "byFlow", partitionKey: "flow", sortKey: "at" }],
  };

  if (config.deploys.length > 0) {
    const dlq = deadLetterQueue("deploy", "deploy");
    const repositories = [...new Set(config.deploys.map((d) => d.repository))].sort();
    const targets = config.deploys.flatMap((d) => d.services);
    const serviceArns = [
      ...new Set(
        targets.map(
          (t) => `arn:{partition}:ecs:{region}:{account}:service/${t.cluster}/${t.service}`,
        ),
      ),
    ].sort();
    const roleArns = [
      ...new Set(
        targets.flatMap((t) =>
          t.roles.map((r) =>
            r.startsWith("arn:") ? r : `arn:{partition}:iam::{account}:role/${r}`,
          ),
        ),
      ),
    ].sort();
    rules.push({
      id: "DeployImagePushed",
      name: name("deploy-image-pushed"),
      flow: "deploy",
      description: `ECR pushes to ${repositories.join(", ")} → deploy`,
      pattern: {
        source: sources("aws.ecr"),
        "detail-type": ["ECR Image Action"],
        detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": repositories },
      },
      target: { kind: "function", function: "DeployHandler", deadLetterQueue: dlq, ...RETRY },
    });
    functions.push({
      id: "DeployHandler",
      flow: "deploy",
      handler: "functions/deploy.handler",
      timeoutSeconds: 60,
      memoryMb: 512,
      link: ["Ledger", "DeployWorkflow", "DeployConfig"],
      queues: [],
      asyncDeadLetterQueue: dlq,
      permissions: [
        {
          // imagePushedAt orders deploys ("never regress").
          actions: ["ecr:DescribeImages"],
          resources: repositories.map(
            (r) => `arn:{partition}:ecr:{region}:{account}:repository/${r}`,
          ),
        },
        {
          actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          resources: [ref("Ledger")],
        },
        { actions: ["states:StartExecution"], resources: [ref("DeployWorkflow")] },
      ],
    });
    settings.push({ id: "DeployConfig", flow: "deploy", value: { deploys: config.deploys } });
    functions.push({
      id: "DeployRevision",
      flow: "deploy",
      handler: "functions/deploy.revision",
      timeoutSeconds: 30,
      memoryMb: 256,
      link: [],
      queues: [],
      permissions: [
        {
          actions: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
          resources: ["*"],
          wildcardReason:
            "ECS does not support resource-level permissions for DescribeTaskDefinition and RegisterTaskDefinition",
        },
        {
          // Registering a revision that keeps the current one's tags.
          actions: ["ecs:TagResource"],
          resources: ["arn:{partition}:ecs:{region}:{account}:task-definition/*"],
          wildcardReason: "task-definition families are not named in the config",
          condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
        },
        ...(roleArns.length > 0
          ? [
              {
                actions: ["iam:PassRole"],
                resources: roleArns,
                condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
              },
            ]
          : []),
      ],
    });
    stateMachines.push({
      id: "DeployWorkflow",
      name: name("deploy", 80),
      flow: "deploy",
      workflow: "deploy",
      type: "STANDARD",
      link: ["Ledger", "DeployRevision"],
      permissions: [
        { actions: ["ecs:DescribeServices", "ecs:UpdateService"], resources: serviceArns },
        { actions: ["lambda:InvokeFunction"], resources: [ref("DeployRevision")] },
        { actions: ["dynamodb:UpdateItem"], resources: [ref("Ledger")] },
      ],
    });
  }

  for (const dataset of config.datasets) {
    const dlq = deadLetterQueue("ingest", "ingest", dataset.name);
    const queueId = pascal("ingest", dataset.name, "queue");
    queues.push({
      id: queueId,
      name: name(`ingest-${dataset.name}`, 80),
      flow: "ingest",
      // Six times the consumer's timeout plus the batching window, as AWS recommends for SQS event sources.
      visibilityTimeoutSeconds: 6 * 120 + dataset.batching.windowSeconds,
      retentionSeconds: FOUR_DAYS,
      redrive: { deadLetterQueue: dlq, maxReceiveCount: 5 },
      deadLetter: false,
    });
    rules.push({
      id: pascal("ingest", dataset.name, "object", "created"),
      name: name(`ingest-${dataset.name}`),
      flow: "ingest",
      description: `s3://${dataset.bucket}/${dataset.prefix}*${dataset.suffix} → ingest ${dataset.name}`,
      pattern: {
        source: sources("aws.s3"),
        "detail-type": ["Object Created"],
        detail: {
          bucket: { name: [dataset.bucket] },
          object: { key: [keyMatcher(dataset.prefix, dataset.suffix)] },
        },
      },
      target: { kind: "queue", queue: queueId, deadLetterQueue: dlq, ...RETRY },
    });
    if (!buckets.some((b) => b.name === dataset.bucket)) {
      buckets.push({
        name: dataset.bucket,
        flow: "ingest",
        managed: false,
        versioned: true,
        eventBridge: true,
      });
    }
  }
  if (config.datasets.length > 0) {
    const dlqs = config.datasets.map((d) => pascal("ingest", d.name, "dlq"));
    const jobs = [...new Set(config.datasets.flatMap((d) => d.glueJobs))].sort();
    buckets.push({
      id: "Manifests",
      name: name("manifests", 63),
      flow: "ingest",
      managed: true,
      versioned: false,
      eventBridge: false,
    });
    settings.push({
      id: "IngestConfig",
      flow: "ingest",
      value: {
        datasets: config.datasets,
        // Source queue name → its dataset and the id of its DLQ (for messages the handler
        // dead-letters itself, and skips recorded under the dataset they arrived for).
        queues: Object.fromEntries(
          config.datasets.map((d) => [
            name(`ingest-${d.name}`, 80),
            { dataset: d.name, deadLetterQueue: pascal("ingest", d.name, "dlq") },
          ]),
        ),
      },
    });
    if (config.snowflake)
      settings.push({ id: "Snowflake", flow: "ingest", value: { ...config.snowflake } });
    functions.push({
      id: "IngestHandler",
      flow: "ingest",
      handler: "functions/ingest.handler",
      timeoutSeconds: 120,
      memoryMb: 1024,
      link: ["Ledger", "IngestWorkflow", "IngestConfig", "Manifests", ...dlqs],
      queues: config.datasets.map((d) => ({
        queue: pascal("ingest", d.name, "queue"),
        batchSize: d.batching.maxFiles,
        windowSeconds: d.batching.windowSeconds,
      })),
      permissions: [
        {
          actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          resources: [ref("Ledger")],
        },
        { actions: ["s3:PutObject"], resources: [ref("Manifests", "/manifests/*")] },
        { actions: ["states:StartExecution"], resources: [ref("IngestWorkflow")] },
        {
          // The event source mappings read the dataset queues on the function's behalf.
          actions: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
          ],
          resources: config.datasets.map((d) => ref(pascal("ingest", d.name, "queue"))),
        },
        // Malformed messages go straight to their dataset's DLQ, with the parse error.
        { actions: ["sqs:SendMessage"], resources: dlqs.map((q) => ref(q)) },
      ],
    });
    const key = config.snowflake?.privateKey;
    functions.push({
      id: "IngestRefresh",
      flow: "ingest",
      handler: "functions/ingest.refresh",
      timeoutSeconds: 300,
      memoryMb: 512,
      link: ["Ledger", "Snowflake"],
      queues: [],
      permissions: [
        { actions: ["dynamodb:UpdateItem"], resources: [ref("Ledger")] },
        ...(key && "secretArn" in key
          ? [{ actions: ["secretsmanager:GetSecretValue"], resources: [key.secretArn] }]
          : key
            ? [
                {
                  actions: ["ssm:GetParameter"],
                  resources: [
                    `arn:{partition}:ssm:{region}:{account}:parameter${key.parameterName}`,
                  ],
                },
              ]
            : []),
      ],
    });
    stateMachines.push({
      id: "IngestWorkflow",
      name: name("ingest", 80),
      flow: "ingest",
      workflow: "ingest",
      type: "STANDARD",
      link: ["Ledger", "IngestRefresh"],
      permissions: [
        {
          actions: [
            "glue:StartJobRun",
            "glue:GetJobRun",
            "glue:GetJobRuns",
            "glue:BatchStopJobRun",
          ],
          resources: jobs.map((j) => `arn:{partition}:glue:{region}:{account}:job/${j}`),
        },
        { actions: ["lambda:InvokeFunction"], resources: [ref("IngestRefresh")] },
        { actions: ["dynamodb:UpdateItem"], resources: [ref("Ledger")] },
      ],
    });
  }

  if (config.promotions.length > 0) {
    const dlq = deadLetterQueue("promote", "promote");
    for (const promotion of config.promotions) {
      rules.push({
        id: pascal("promote", promotion.name, "artifact", "uploaded"),
        name: name(`promote-${promotion.name}`),
        flow: "promote",
        description: `s3://${promotion.bucket}/${promotion.prefix}*.zip → promote ${promotion.function}:${promotion.alias}`,
        pattern: {
          source: sources("aws.s3"),
          "detail-type": ["Object Created"],
          detail: {
            bucket: { name: [promotion.bucket] },
            object: { key: [keyMatcher(promotion.prefix, ".zip")] },
          },
        },
        // The rule starts the workflow itself: no function in between (see DESIGN "promote").
        target: {
          kind: "state-machine",
          stateMachine: "PromoteWorkflow",
          deadLetterQueue: dlq,
          ...RETRY,
        },
      });
      if (!buckets.some((b) => b.name === promotion.bucket)) {
        buckets.push({
          name: promotion.bucket,
          flow: "promote",
          managed: true,
          versioned: true,
          eventBridge: true,
        });
      }
    }
    const functionArns = [
      ...new Set(
        config.promotions.map(
          (p) => `arn:{partition}:lambda:{region}:{account}:function:${p.function}`,
        ),
      ),
    ].sort();
    // Executions of the promote workflow (EventBridge names them, so only the prefix is known).
    const promoteExecutions = `arn:{partition}:states:{region}:{account}:execution:${name("promote", 80)}:*`;
    const aliasArns = [
      ...new Set(
        config.promotions.map(
          (p) => `arn:{partition}:lambda:{region}:{account}:function:${p.function}:${p.alias}`,
        ),
      ),
    ].sort();
    const alarmArns = [
      ...new Set(
        config.promotions.flatMap((p) =>
          p.alarms.map((a) => `arn:{partition}:cloudwatch:{region}:{account}:alarm:${a}`),
        ),
      ),
    ].sort();
    const artifactObjects = [
      ...new Set(config.promotions.map((p) => `arn:{partition}:s3:::${p.bucket}/${p.prefix}*`)),
    ].sort();
    settings.push({
      id: "PromoteConfig",
      flow: "promote",
      value: { promotions: config.promotions },
    });
    const alarmRead =
      alarmArns.length > 0
        ? [{ actions: ["cloudwatch:DescribeAlarms"], resources: alarmArns }]
        : [];
    functions.push({
      id: "PromoteAdmit",
      flow: "promote",
      handler: "functions/promote.admit",
      timeoutSeconds: 30,
      memoryMb: 256,
      link: ["Ledger", "PromoteConfig"],
      queues: [],
      permissions: [
        {
          actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          resources: [ref("Ledger")],
        },
        // HeadObject of the exact object version.
        { actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: artifactObjects },
        ...alarmRead,
        // Is the promotion holding the alias still running?
        {
          actions: ["states:DescribeExecution"],
          resources: [promoteExecutions],
        },
      ],
    });
    functions.push({
      id: "PromoteResolve",
      flow: "promote",
      handler: "functions/promote.resolve",
      timeoutSeconds: 30,
      memoryMb: 256,
      link: [],
      queues: [],
      permissions: [{ actions: ["lambda:ListVersionsByFunction"], resources: functionArns }],
    });
    functions.push({
      id: "PromoteApproval",
      flow: "promote",
      handler: "functions/promote.approval",
      timeoutSeconds: 30,
      memoryMb: 256,
      link: ["Ledger"],
      queues: [],
      permissions: [{ actions: ["dynamodb:UpdateItem"], resources: [ref("Ledger")] }],
    });
    stateMachines.push({
      id: "PromoteWorkflow",
      name: name("promote", 80),
      flow: "promote",
      workflow: "promote",
      type: "STANDARD",
      link: ["Ledger", "PromoteAdmit", "PromoteResolve", "PromoteApproval"],
      permissions: [
        {
          actions: [
            "lambda:GetFunctionConfiguration",
            "lambda:UpdateFunctionCode",
            "lambda:PublishVersion",
          ],
          resources: functionArns,
        },
        { actions: ["lambda:GetAlias", "lambda:UpdateAlias"], resources: aliasArns },
        // UpdateFunctionCode reads the artifact with the caller's permissions.
        { actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: artifactObjects },
        ...alarmRead,
        {
          actions: ["lambda:InvokeFunction"],
          resources: [ref("PromoteAdmit"), ref("PromoteResolve"), ref("PromoteApproval")],
        },
        { actions: ["dynamodb:UpdateItem"], resources: [ref("Ledger")] },
        // A newer upload stops the promotion it supersedes.
        {
          actions: ["states:StopExecution"],
          resources: [promoteExecutions],
        },
      ],
    });
  }

  const allSources = [...new Set(rules.flatMap((r) => r.pattern.source as string[]))].sort();
  return {
    app,
    stage,
    region: config.region,
    production: config.production,
    sources: allSources,
    archive: {
      id: "Archive",
      name: name("archive", 48),
      retentionDays: config.archive.retentionDays,
      // Keep exactly what some rule would route, so a replay has everything and nothing else.
      pattern:
        rules.length > 0 ? { $or: rules.map((r) => r.pattern) } : { source: [SIMULATED_SOURCE] },
    },
    tables: [ledger],
    queues,
    rules,
    functions,
    stateMachines,
    buckets,
    alarms,
    settings,
  };
}

/** Looks up a queue by id; throws a clear error for a dangling reference. */
export function queue(topology: Topology, id: string): QueueDef {
  const q = topology.queues.find((x) => x.id === id);
  if (!q) throw new Error(`topology has no queue '${id}'`);
  return q;
}

/** The rule ids of a flow, for `switchyard replay --flow`. */
export const rulesOf = (topology: Topology, flow?: Flow): RuleDef[] =>
  topology.rules.filter((r) => flow === undefined || r.flow === flow);
