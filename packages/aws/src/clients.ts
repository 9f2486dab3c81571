import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GlueClient } from "@aws-sdk/client-glue";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * One place that builds AWS SDK v3 clients. Deployed, the SDK resolves region and
 * credentials from the Lambda environment. Locally, the runtime sets the standard
 * `AWS_ENDPOINT_URL` (honoured by every v3 client), `AWS_REGION` and dummy keys, so
 * the same code talks to the emulator without a branch. Clients are created once per
 * process and reused across warm invocations.
 */
export interface ClientOptions {
  /** Overrides `AWS_ENDPOINT_URL`; used by tests and the local runtime. */
  endpoint?: string;
  region?: string;
}

const base = (o: ClientOptions) => ({
  ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  ...(o.region ? { region: o.region } : {}),
  maxAttempts: 4,
});

/** S3 needs path-style addressing when it talks to an endpoint other than AWS's own. */
const pathStyle = (o: ClientOptions) => Boolean(o.endpoint ?? process.env.AWS_ENDPOINT_URL);

const sfnEndpoint = () => process.env.AWS_ENDPOINT_URL_SFN;

function make(o: ClientOptions) {
  const dynamo = new DynamoDBClient(base(o));
  return {
    cloudwatch: new CloudWatchClient(base(o)),
    dynamo,
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    ecr: new ECRClient(base(o)),
    ecs: new ECSClient(base(o)),
    events: new EventBridgeClient(base(o)),
    glue: new GlueClient(base(o)),
    iam: new IAMClient(base(o)),
    lambda: new LambdaClient(base(o)),
    s3: new S3Client({ ...base(o), forcePathStyle: pathStyle(o) }),
    secrets: new SecretsManagerClient(base(o)),
    // The local runtime serves Step Functions itself (AWS_ENDPOINT_URL_SFN), apart from the emulator.
    sfn: new SFNClient({ ...base(o), ...(sfnEndpoint() ? { endpoint: sfnEndpoint() } : {}) }),
    sqs: new SQSClient(base(o)),
    ssm: new SSMClient(base(o)),
  };
}

export type Clients = ReturnType<typeof make>;

const cache = new Map<string, Clients>();

/** Clients for `options`, created on first use and then shared. */
export function clients(options: ClientOptions = {}): Clients {
  const key = `${options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? ""}|${sfnEndpoint() ?? ""}|${options.region ?? process.env.AWS_REGION ?? ""}`;
  let found = cache.get(key);
  if (!found) {
    found = make(options);
    cache.set(key, found);
  }
  return found;
}
