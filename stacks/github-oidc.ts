import { BOOTSTRAP_STAGE, knownStages, resolve } from "./stages";
import { config } from "./topology";

/**
 * GitHub Actions deploys Switchyard through OIDC: no long-lived AWS keys in GitHub.
 *
 * - Created only on the bootstrap stage (`sst deploy --stage bootstrap`, once per AWS account,
 *   by an administrator). An account has one OIDC provider per issuer URL, and the deploy role
 *   serves every stage, so neither belongs to a deployable stage that can be removed.
 * - Skipped (with a log line) when `github` is not configured.
 * - An account that already has the provider (another tool made it) sets
 *   `SWITCHYARD_GITHUB_OIDC_PROVIDER_ARN` when deploying the bootstrap stage; it is reused, not created.
 * - The role trusts exactly `repo:<owner/name>:ref:refs/heads/<branch>` and
 *   `repo:<owner/name>:environment:<env>` for the configured environments (`StringEquals`, no wildcards).
 * - Its policy is an explicit list: the services Switchyard's stacks create, limited to names
 *   starting with `<app>-` (SST and the topology name every resource that way), SST's own state
 *   (`sst-state-*`/`sst-asset-*` buckets, `/sst/*` parameters), and the configured buckets. No
 *   `Action: "*"` and no `Resource: "*"`. An `AccessDenied` in a deploy names the missing action:
 *   add it to `deployStatements` below.
 * - It is not an escalation barrier: whoever can deploy can write IAM policies for `<app>-*`
 *   roles. Protect the branch and the environments (required reviewers on production).
 */

const ISSUER = "token.actions.githubusercontent.com";
const AUDIENCE = "sts.amazonaws.com";

export interface GitHubTrust {
  repository: string;
  branch: string;
  environments: string[];
}

/** The only `sub` claims the deploy role accepts. */
export const trustedSubjects = (github: GitHubTrust): string[] => [
  `repo:${github.repository}:ref:refs/heads/${github.branch}`,
  ...github.environments.map((env) => `repo:${github.repository}:environment:${env}`),
];

/** Outside the `<app>-*` prefix the role may manage, so it cannot rewrite itself. */
export const deployRoleName = (app: string) => `github-deploy-${app}`;

interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** What `sst deploy` of any stage needs, by resource kind the stacks create. */
export function deployStatements(input: {
  partition: string;
  account: string;
  app: string;
  /** Buckets Switchyard creates (artifact buckets): managed fully. */
  managedBuckets: string[];
  /** Buckets that belong to producers: only their EventBridge notification is turned on. */
  sourceBuckets: string[];
}): Statement[] {
  const { partition: p, account, app } = input;
  const arn = (service: string, resource: string) => `arn:${p}:${service}:*:${account}:${resource}`;
  const bucket = (name: string) => [`arn:${p}:s3:::${name}`, `arn:${p}:s3:::${name}/*`];
  const own = `${app}-*`;
  const statements: Statement[] = [
    {
      Sid: "SstStateAndAssets",
      Effect: "Allow",
      Action: ["s3:*"],
      Resource: [...bucket("sst-state-*"), ...bucket("sst-asset-*")],
    },
    {
      Sid: "SstParameters",
      Effect: "Allow",
      Action: [
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:AddTagsToResource",
        "ssm:ListTagsForResource",
      ],
      Resource: [arn("ssm", "parameter/sst/*")],
    },
    {
      Sid: "RulesAndArchive",
      Effect: "Allow",
      Action: ["events:*"],
      Resource: [arn("events", `rule/${own}`), arn("events", `archive/${own}`)],
    },
    {
      Sid: "DefaultBus",
      Effect: "Allow",
      Action: ["events:DescribeEventBus"],
      Resource: [arn("events", "event-bus/default")],
    },
    { Sid: "Queues", Effect: "Allow", Action: ["sqs:*"], Resource: [arn("sqs", own)] },
    {
      Sid: "Tables",
      Effect: "Allow",
      Action: ["dynamodb:*"],
      Resource: [arn("dynamodb", `table/${own}`)],
    },
    {
      Sid: "Alarms",
      Effect: "Allow",
      Action: ["cloudwatch:*"],
      Resource: [arn("cloudwatch", `alarm:${own}`)],
    },
    {
      Sid: "Functions",
      Effect: "Allow",
      Action: ["lambda:*"],
      Resource: [arn("lambda", `function:${own}`)],
    },
    {
      Sid: "EventSourceMappings",
      Effect: "Allow",
      Action: [
        "lambda:CreateEventSourceMapping",
        "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
        "lambda:ListEventSourceMappings",
        "lambda:TagResource",
        "lambda:ListTags",
      ],
      Resource: [arn("lambda", "event-source-mapping:*")],
    },
    {
      Sid: "StateMachines",
      Effect: "Allow",
      Action: ["states:*"],
      Resource: [arn("states", `stateMachine:${own}`)],
    },
    {
      Sid: "LogGroups",
      Effect: "Allow",
      Action: ["logs:*"],
      Resource: [
        arn("logs", `log-group:/aws/lambda/${own}`),
        arn("logs", `log-group:/aws/vendedlogs/states/${own}`),
      ],
    },
    {
      Sid: "DescribeLogGroups",
      Effect: "Allow",
      Action: ["logs:DescribeLogGroups"],
      Resource: [arn("logs", "log-group:*")],
    },
    {
      Sid: "Roles",
      Effect: "Allow",
      Action: [
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRoleTags",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
      ],
      Resource: [`arn:${p}:iam::${account}:role/${own}`],
    },
    {
      Sid: "AttachServiceRolePolicies",
      Effect: "Allow",
      Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
      Resource: [`arn:${p}:iam::${account}:role/${own}`],
      Condition: { ArnLike: { "iam:PolicyARN": `arn:${p}:iam::aws:policy/service-role/*` } },
    },
    {
      Sid: "PassRoles",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [`arn:${p}:iam::${account}:role/${own}`],
      Condition: {
        StringEquals: {
          "iam:PassedToService": [
            "lambda.amazonaws.com",
            "states.amazonaws.com",
            "events.amazonaws.com",
          ],
        },
      },
    },
  ];
  if (input.managedBuckets.length > 0) {
    statements.push({
      Sid: "ManagedBuckets",
      Effect: "Allow",
      Action: ["s3:*"],
      Resource: input.managedBuckets.flatMap(bucket),
    });
  }
  if (input.sourceBuckets.length > 0) {
    statements.push({
      Sid: "SourceBucketNotifications",
      Effect: "Allow",
      Action: ["s3:GetBucketNotification", "s3:PutBucketNotification", "s3:GetBucketLocation"],
      Resource: input.sourceBuckets.map((name) => `arn:${p}:s3:::${name}`),
    });
  }
  statements.push({
    Sid: "NeverItself",
    Effect: "Deny",
    Action: ["iam:*"],
    Resource: [`arn:${p}:iam::${account}:role/${deployRoleName(app)}`],
  });
  return statements;
}

/** Buckets of every stage named in the config (the role deploys all of them). */
function bucketsOfAllStages() {
  const buckets = knownStages().flatMap((stage) => resolve(stage).topology.buckets);
  const managed = [...new Set(buckets.filter((b) => b.managed).map((b) => b.name))].sort();
  const source = [...new Set(buckets.filter((b) => !b.managed).map((b) => b.name))]
    .filter((name) => !managed.includes(name))
    .sort();
  return { managed, source };
}

function create(github: GitHubTrust) {
  const existing = process.env.SWITCHYARD_GITHUB_OIDC_PROVIDER_ARN;
  const providerArn: $util.Input<string> =
    existing ??
    new aws.iam.OpenIdConnectProvider("GitHubOidcProvider", {
      url: `https://${ISSUER}`,
      clientIdLists: [AUDIENCE],
    }).arn;

  const role = new aws.iam.Role("GitHubDeployRole", {
    name: deployRoleName(config.app),
    description: `GitHub Actions in ${github.repository} (${github.branch}, environments: ${github.environments.join(", ") || "none"}) run sst deploy`,
    maxSessionDuration: 3600,
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "GitHubActions",
          Effect: "Allow",
          Principal: { Federated: providerArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${ISSUER}:aud`]: AUDIENCE,
              [`${ISSUER}:sub`]: trustedSubjects(github),
            },
          },
        },
      ],
    }),
  });

  const partition = aws.getPartitionOutput({}).partition;
  const account = aws.getCallerIdentityOutput({}).accountId;
  const buckets = bucketsOfAllStages();
  new aws.iam.RolePolicy("GitHubDeployPolicy", {
    role: role.name,
    policy: $resolve({ partition, account }).apply((v) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: deployStatements({
          partition: v.partition,
          account: v.account,
          app: config.app,
          managedBuckets: buckets.managed,
          sourceBuckets: buckets.source,
        }),
      }),
    ),
  });

  return { providerArn: $output(providerArn), roleArn: role.arn, roleName: role.name };
}

function githubDeploy() {
  if ($app.stage !== BOOTSTRAP_STAGE) return undefined;
  if (!config.github) {
    $util.log.info(
      "github-oidc: skipped, switchyard.config.ts has no `github` section (repository, branch, environments).",
    );
    return undefined;
  }
  return create(config.github);
}

/** The deploy role and provider, on the bootstrap stage when `github` is configured. */
export const deploy = githubDeploy();
