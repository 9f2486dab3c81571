import * as CloudWatch from "@aws-sdk/client-cloudwatch";
import * as DynamoDB from "@aws-sdk/client-dynamodb";
import * as ECR from "@aws-sdk/client-ecr";
import * as ECS from "@aws-sdk/client-ecs";
import * as EventBridge from "@aws-sdk/client-eventbridge";
import * as Glue from "@aws-sdk/client-glue";
import * as Lambda from "@aws-sdk/client-lambda";
import * as S3 from "@aws-sdk/client-s3";
import * as SFN from "@aws-sdk/client-sfn";
import * as SQS from "@aws-sdk/client-sqs";
import type { Clients } from "@switchyard/aws";
import { type ResourceBinding, StatesError } from "./sfn";

type Json = Parameters<ResourceBinding>[0];

/**
 * Task resources → SDK calls against the emulator, as Step Functions would make them.
 * `arn:aws:states:::aws-sdk:<service>:<action>` maps to `<Action>Command` of that service's
 * v3 client; SDK errors become States errors named `<Service>.<ErrorName>Exception`, which
 * is what Retry/Catch `ErrorEquals` see in AWS.
 */
const SERVICES: Record<
  string,
  {
    errorPrefix: string;
    /** The SDK's member names are camelCase (JSON 1.1 services like ECS), while Step Functions uses PascalCase. */
    camelCase?: boolean;
    module: Record<string, unknown>;
    client: (c: Clients) => { send(cmd: unknown): Promise<unknown> };
  }
> = {
  cloudwatch: {
    errorPrefix: "CloudWatch",
    module: CloudWatch,
    client: (c) => c.cloudwatch as never,
  },
  dynamodb: { errorPrefix: "DynamoDb", module: DynamoDB, client: (c) => c.dynamo as never },
  ecr: { errorPrefix: "Ecr", camelCase: true, module: ECR, client: (c) => c.ecr as never },
  ecs: { errorPrefix: "Ecs", camelCase: true, module: ECS, client: (c) => c.ecs as never },
  eventbridge: {
    errorPrefix: "EventBridge",
    module: EventBridge,
    client: (c) => c.events as never,
  },
  glue: { errorPrefix: "Glue", module: Glue, client: (c) => c.glue as never },
  lambda: { errorPrefix: "Lambda", module: Lambda, client: (c) => c.lambda as never },
  s3: { errorPrefix: "S3", module: S3, client: (c) => c.s3 as never },
  sfn: { errorPrefix: "Sfn", camelCase: true, module: SFN, client: (c) => c.sfn as never },
  sqs: { errorPrefix: "Sqs", module: SQS, client: (c) => c.sqs as never },
};

/** `ResourceNotFound` → `ResourceNotFoundException`, as Step Functions names SDK errors. */
const exceptionName = (name: string) => (name.endsWith("Exception") ? name : `${name}Exception`);

/** Turns an SDK error into the States error Step Functions would raise for it. */
export function statesErrorFromSdk(prefix: string, error: unknown): StatesError {
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (e instanceof StatesError) return e;
  const name = e.name && e.name !== "Error" ? exceptionName(e.name) : "ServiceException";
  return new StatesError(`${prefix}.${name}`, e.message || name);
}

/** JSON-safe copy of an SDK response without `$metadata`, dates as ISO strings. */
export function toJson(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, (key, v) =>
      key === "$metadata"
        ? undefined
        : v instanceof Uint8Array
          ? Buffer.from(v).toString("base64")
          : v,
    ),
  ) as Json;
}

/**
 * Renames object keys recursively (`"lower"`: `Cluster` → `cluster`, `"upper"`: back). Step
 * Functions' AWS SDK integrations use PascalCase member names for every service. This local
 * stand-in renames every key, so free-form map keys (e.g. `dockerLabels`) would be renamed too;
 * workflows only send and read structure members through it.
 */
export function recase(value: unknown, to: "lower" | "upper"): unknown {
  if (Array.isArray(value)) return value.map((v) => recase(v, to));
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      to === "lower"
        ? k.charAt(0).toLowerCase() + k.slice(1)
        : k.charAt(0).toUpperCase() + k.slice(1),
      recase(v, to),
    ]),
  );
}

export function awsSdkBinding(clients: Clients): ResourceBinding {
  return async (input, { resource }) => {
    const match = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
    if (!match) throw new StatesError("States.Runtime", `Unsupported resource ${resource}`);
    const [, service = "", action = ""] = match;
    const svc = SERVICES[service];
    if (!svc)
      throw new StatesError(
        "States.Runtime",
        `The local runtime has no binding for aws-sdk:${service}; add it to packages/local/src/bindings.ts`,
      );
    const commandName = `${action[0]?.toUpperCase()}${action.slice(1)}Command`;
    const Command = svc.module[commandName] as (new (input: unknown) => unknown) | undefined;
    if (!Command)
      throw new StatesError(
        "States.Runtime",
        `aws-sdk:${service}:${action} is not an API action of ${service}`,
      );
    try {
      if (!svc.camelCase) return toJson(await svc.client(clients).send(new Command(input ?? {})));
      const output = await svc.client(clients).send(new Command(recase(input ?? {}, "lower")));
      return recase(toJson(output), "upper") as Json;
    } catch (error) {
      throw statesErrorFromSdk(svc.errorPrefix, error);
    }
  };
}

/** `arn:aws:states:::glue:startJobRun.sync`: starts the run, then polls GetJobRun to a terminal state. */
export function glueStartJobRunSync(clients: Clients, pollMs = 200): ResourceBinding {
  return async (input) => {
    const params = (input ?? {}) as { JobName: string; Arguments?: Record<string, string> };
    let runId: string;
    try {
      const started = await clients.glue.send(new Glue.StartJobRunCommand(params));
      runId = started.JobRunId ?? "";
    } catch (error) {
      throw statesErrorFromSdk("Glue", error);
    }
    for (;;) {
      const { JobRun } = await clients.glue.send(
        new Glue.GetJobRunCommand({ JobName: params.JobName, RunId: runId }),
      );
      const state = JobRun?.JobRunState;
      if (state === "SUCCEEDED") return toJson(JobRun);
      if (state === "FAILED" || state === "ERROR" || state === "TIMEOUT" || state === "STOPPED") {
        throw new StatesError(
          "States.TaskFailed",
          JSON.stringify({
            JobName: params.JobName,
            JobRunId: runId,
            JobRunState: state,
            ErrorMessage: JobRun?.ErrorMessage,
          }),
        );
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}

/** A function the local runtime can invoke in-process, by name. */
export type InvokeLocal = (functionName: string, payload: unknown) => Promise<unknown>;

/** `arn:aws:states:::lambda:invoke`: invokes the handler in-process; output mirrors the optimized integration. */
export function lambdaInvoke(invoke: InvokeLocal): ResourceBinding {
  return async (input) => {
    const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: string; Payload?: unknown };
    if (!FunctionName)
      throw new StatesError("States.Runtime", "lambda:invoke needs Parameters.FunctionName");
    try {
      const result = await invoke(FunctionName, Payload ?? {});
      return { StatusCode: 200, Payload: toJson(result), ExecutedVersion: "$LATEST" } as Json;
    } catch (error) {
      const e = error as Error;
      // A function error surfaces as its errorType, which is the thrown error's name.
      throw new StatesError(e instanceof StatesError ? e.name : e.name || "Error", e.message);
    }
  };
}

export interface BindingTable {
  /** Exact resource ARN → binding, checked first. Flows add overrides here (e.g. rollout simulation). */
  exact: Map<string, ResourceBinding>;
  fallback: (resource: string) => ResourceBinding | undefined;
}

export function bindingTable(clients: Clients, invoke: InvokeLocal): BindingTable {
  const sdk = awsSdkBinding(clients);
  const glueSync = glueStartJobRunSync(clients);
  const lambda = lambdaInvoke(invoke);
  return {
    exact: new Map(),
    fallback: (resource) => {
      if (resource.startsWith("arn:aws:states:::aws-sdk:")) return sdk;
      if (resource === "arn:aws:states:::glue:startJobRun.sync") return glueSync;
      if (
        resource === "arn:aws:states:::lambda:invoke" ||
        resource === "arn:aws:states:::lambda:invoke.waitForTaskToken"
      )
        return lambda;
      return undefined;
    },
  };
}

export const resolveBinding = (table: BindingTable) => (resource: string) =>
  table.exact.get(resource) ?? table.fallback(resource);
