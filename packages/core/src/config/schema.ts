import { z } from "zod";

/**
 * The control plane's configuration. `switchyard.config.ts` exports a value of
 * `ConfigInput`; `Config.load()` validates it, applies the stage's overrides and
 * returns a `ResolvedConfig`. Every field here is read by pure code only.
 */

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const ECR_REPOSITORY =
  /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const CLUSTER_OR_SERVICE = /^[A-Za-z0-9_-]{1,255}$/;
const CONTAINER = /^[A-Za-z0-9_-]{1,255}$/;
/** An IAM role name (optionally with a path) or a role ARN. */
const IAM_ROLE = /^(arn:aws[a-z-]*:iam::\d{12}:role\/)?([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const GLUE_JOB = /^[\w\-. ]{1,255}$/u;
const LAMBDA_FUNCTION = /^[A-Za-z0-9_-]{1,64}$/;
const ALIAS = /^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/;
/** CloudWatch alarm names: 1-255 printable characters. */
const ALARM = /^[^\p{Cc}]{1,255}$/u;
const GITHUB_REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
/** Unquoted Snowflake identifier: letter or underscore, then letters, digits, `_` or `$`. */
const SNOWFLAKE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;
const STAGE = /^[a-z][a-z0-9-]{0,29}$/;

const hint = (message: string, fix: string) => ({ message: `${message}. Fix: ${fix}` });

const keyPrefix = z
  .string()
  .max(1024)
  .refine(
    (p) => !p.startsWith("/"),
    hint(
      "must not start with '/'",
      "S3 keys have no leading slash, write 'orders/' not '/orders/'",
    ),
  )
  .refine(
    (p) => p === "" || p.endsWith("/"),
    hint(
      "must end with '/'",
      "end the prefix with a slash, e.g. 'orders/', so 'orders-old/' is not matched",
    ),
  );

export const GlobPattern = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (g) => /^[A-Za-z0-9_.*?\-[\]!]+$/.test(g),
    hint(
      "is not a tag glob",
      "use letters, digits, '.', '_', '-' and the glob characters '*', '?', '[...]'",
    ),
  );

export const DeployTarget = z.strictObject({
  cluster: z
    .string()
    .regex(
      CLUSTER_OR_SERVICE,
      hint("is not an ECS cluster name", "use the cluster name, not its ARN"),
    ),
  service: z
    .string()
    .regex(
      CLUSTER_OR_SERVICE,
      hint("is not an ECS service name", "use the service name, not its ARN"),
    ),
  container: z
    .string()
    .regex(
      CONTAINER,
      hint("is not a container name", "use the containerDefinitions[].name of the task definition"),
    ),
  /**
   * IAM roles the service's task definition uses (task role, execution role), by name or ARN.
   * Switchyard may pass exactly these (`iam:PassRole`) when it registers a revision; a
   * revision that uses any other role is refused before ECS is called.
   */
  roles: z
    .array(
      z
        .string()
        .regex(
          IAM_ROLE,
          hint(
            "is not an IAM role name or ARN",
            "use the role's name (e.g. 'web-task') or its arn:aws:iam::<account>:role/<name>",
          ),
        ),
    )
    .default([]),
});

export const Deploy = z.strictObject({
  repository: z
    .string()
    .regex(
      ECR_REPOSITORY,
      hint(
        "is not an ECR repository name",
        "use the repository name such as 'web' or 'team/web', not its URI",
      ),
    )
    .refine(
      (r) => !r.includes(".amazonaws.com"),
      hint("is a registry URI", "use the repository name such as 'web', not its URI"),
    ),
  tags: z
    .array(GlobPattern)
    .min(1, hint("needs at least one tag pattern", "add e.g. tags: ['release-*']")),
  services: z
    .array(DeployTarget)
    .min(1, hint("needs at least one service", "add { cluster, service, container }")),
  /** How long the workflow follows a rollout before recording TIMED_OUT. */
  rolloutTimeoutSeconds: z.number().int().min(10).max(86_400).default(1800),
  /** How often the workflow polls DescribeServices while it follows the rollout. */
  pollSeconds: z.number().int().min(1).max(300).default(15),
});

export const SnowflakeTable = z.strictObject({
  /** Fully qualified `DATABASE.SCHEMA.TABLE`, unquoted identifiers only. */
  table: z.string().refine(
    (t) => {
      const parts = t.split(".");
      return parts.length === 3 && parts.every((p) => SNOWFLAKE_IDENTIFIER.test(p));
    },
    hint(
      "must be DATABASE.SCHEMA.TABLE made of unquoted Snowflake identifiers",
      "use letters, digits, '_' and '$', starting with a letter or '_', e.g. 'ANALYTICS.RAW.ORDERS_EXT'",
    ),
  ),
  /** Path of the dataset's prefix relative to the external stage's URL. Defaults to the dataset prefix. */
  stagePath: z.string().max(1024).optional(),
});

export const Batching = z.strictObject({
  /** SQS → Lambda batch size. */
  maxFiles: z.number().int().min(1).max(10_000).default(1000),
  /** SQS → Lambda maximum batching window. */
  windowSeconds: z.number().int().min(0).max(300).default(30),
});

export const Dataset = z
  .strictObject({
    name: z
      .string()
      .regex(
        NAME,
        hint(
          "is not a dataset name",
          "use lowercase letters, digits and '-', at most 40 characters",
        ),
      ),
    bucket: z
      .string()
      .regex(
        BUCKET,
        hint("is not an S3 bucket name", "use the bucket name, not an s3:// URL or ARN"),
      ),
    prefix: keyPrefix.default(""),
    suffix: z.string().max(64).default(""),
    glueJobs: z
      .array(
        z
          .string()
          .regex(
            GLUE_JOB,
            hint("is not a Glue job name", "use the job's name as shown by `aws glue get-jobs`"),
          ),
      )
      .min(
        1,
        hint("needs at least one Glue job", "list the jobs to run in order, e.g. ['orders-clean']"),
      ),
    snowflake: SnowflakeTable,
    batching: Batching.default({ maxFiles: 1000, windowSeconds: 30 }),
  })
  .refine((d) => d.prefix !== "" || d.suffix !== "", {
    message:
      "needs a prefix or a suffix. Fix: set prefix: 'orders/' so the rule does not match every object in the bucket",
    path: ["prefix"],
  });

export const Strategy = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("all-at-once"),
    bakeSeconds: z.number().int().min(0).max(86_400).default(0),
  }),
  z.strictObject({
    type: z.literal("canary"),
    percent: z.number().min(1).max(99),
    bakeSeconds: z.number().int().min(1).max(86_400),
  }),
  z.strictObject({
    type: z.literal("linear"),
    percent: z.number().min(1).max(50),
    intervalSeconds: z.number().int().min(1).max(86_400),
  }),
]);

export const Promotion = z.strictObject({
  name: z
    .string()
    .regex(NAME, hint("is not a promotion name", "use lowercase letters, digits and '-'")),
  bucket: z
    .string()
    .regex(BUCKET, hint("is not an S3 bucket name", "use the artifact bucket's name")),
  prefix: keyPrefix.refine(
    (p) => p !== "",
    hint("must not be empty", "use a per-function prefix such as 'api/'"),
  ),
  function: z
    .string()
    .regex(
      LAMBDA_FUNCTION,
      hint("is not a Lambda function name", "use the function name, not its ARN"),
    ),
  alias: z.string().regex(ALIAS, hint("is not a Lambda alias name", "use e.g. 'live'")),
  strategy: Strategy,
  alarms: z.array(z.string().regex(ALARM)).default([]),
  /** What a second upload does while a promotion of the same function is running. */
  onConcurrent: z.enum(["supersede", "queue"]).default("supersede"),
  /** Require `switchyard promote approve <id>` before the final shift. */
  approval: z.boolean().default(false),
});

/**
 * How the ingest flow reaches Snowflake: key-pair (JWT) authentication, with the private key
 * in Secrets Manager (`secretArn`) or SSM Parameter Store (`parameterName`, SecureString).
 * Only the key's location is configured here, never the key.
 */
export const SnowflakeConnection = z.strictObject({
  account: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/,
      hint("is not a Snowflake account identifier", "use e.g. 'myorg-myaccount' (no URL)"),
    ),
  user: z
    .string()
    .regex(
      /^[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,254}$/,
      hint("is not a Snowflake user name", "use the user Switchyard logs in as, e.g. 'SWITCHYARD'"),
    ),
  role: z
    .string()
    .regex(SNOWFLAKE_IDENTIFIER, hint("is not a Snowflake role", "use an unquoted identifier"))
    .optional(),
  warehouse: z
    .string()
    .regex(SNOWFLAKE_IDENTIFIER, hint("is not a Snowflake warehouse", "use an unquoted identifier"))
    .optional(),
  privateKey: z.union(
    [
      z.strictObject({
        secretArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
            hint(
              "is not a Secrets Manager secret ARN",
              "use arn:aws:secretsmanager:<region>:<account>:secret:<name>",
            ),
          ),
      }),
      z.strictObject({
        parameterName: z
          .string()
          .regex(
            /^\/[\w.\-/]{1,1010}$/,
            hint(
              "is not an SSM parameter name",
              "use a SecureString parameter such as '/switchyard/snowflake/private-key'",
            ),
          ),
      }),
    ],
    {
      error:
        "needs exactly one of { secretArn } or { parameterName }. Fix: name where the PEM private key is kept",
    },
  ),
  statementTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
});

export const Archive = z.strictObject({
  retentionDays: z.number().int().min(0).max(3650).default(30),
});

export const GitHub = z.strictObject({
  repository: z
    .string()
    .regex(
      GITHUB_REPOSITORY,
      hint("is not an owner/name GitHub repository", "write e.g. 'acme/switchyard'"),
    ),
  branch: z.string().min(1).default("main"),
  environments: z.array(z.string().min(1)).default([]),
});

/** Everything a stage may override. Arrays replace, objects merge. */
const Flows = z.strictObject({
  archive: Archive.default({ retentionDays: 30 }),
  deploys: z.array(Deploy).default([]),
  datasets: z.array(Dataset).default([]),
  promotions: z.array(Promotion).default([]),
  snowflake: SnowflakeConnection.optional(),
});

export const StageOverride = z.strictObject({
  /** Production stages refuse `switchyard.simulated` events and protect resources. */
  production: z.boolean().optional(),
  region: z.string().optional(),
  archive: Archive.partial().optional(),
  deploys: z.array(Deploy).optional(),
  datasets: z.array(Dataset).optional(),
  promotions: z.array(Promotion).optional(),
  snowflake: SnowflakeConnection.optional(),
});

export const ConfigSchema = z.strictObject({
  app: z
    .string()
    .regex(NAME, hint("is not an app name", "use lowercase letters, digits and '-'"))
    .default("switchyard"),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, hint("is not an AWS region", "write e.g. 'us-east-1'"))
    .default("us-east-1"),
  github: GitHub.optional(),
  ...Flows.shape,
  stages: z
    .record(
      z.string().regex(STAGE, hint("is not a stage name", "use lowercase letters, digits and '-'")),
      StageOverride,
    )
    .default({}),
});

export type ConfigInput = z.input<typeof ConfigSchema>;
export type ParsedConfig = z.output<typeof ConfigSchema>;
export type Deploy = z.output<typeof Deploy>;
export type DeployTarget = z.output<typeof DeployTarget>;
export type Dataset = z.output<typeof Dataset>;
export type Promotion = z.output<typeof Promotion>;
export type SnowflakeConnection = z.output<typeof SnowflakeConnection>;
export type Strategy = z.output<typeof Strategy>;
export type DeployInput = z.input<typeof Deploy>;
export type DatasetInput = z.input<typeof Dataset>;
export type PromotionInput = z.input<typeof Promotion>;
