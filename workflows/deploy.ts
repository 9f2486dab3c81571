import { type Deploy, Workflow } from "@switchyard/core";

/**
 * The deploy workflow (Standard, JSONPath ASL): one execution per service and image digest,
 * with the input `Deploy.WorkflowInput`.
 *
 * DescribeService → RegisterRevision (the `DeployRevision` function copies the current task
 * definition with the image pinned by digest) → UpdateService → poll DescribeServices until the
 * deployment that carries the new revision reaches COMPLETED, or FAILED (the circuit breaker
 * rolled it back), or the configured timeout passes. "Services stable" is not success: a rolled
 * back service is stable too. Every outcome is written to the deploy's ledger record.
 *
 * Retries cover throttling and 5xx only; any other error is caught and recorded as ERROR.
 */

/** Throttling and server-side errors of each service, as Step Functions names them. */
export const TRANSIENT = {
  ecs: [
    "Ecs.ThrottlingException",
    "Ecs.ServerException",
    "Ecs.ServiceUnavailableException",
    "Ecs.InternalFailureException",
  ],
  lambda: [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    // Thrown inside DeployRevision when ECS throttles RegisterTaskDefinition past the SDK's retries.
    "ThrottlingException",
    "ServerException",
  ],
  dynamodb: [
    "DynamoDb.ProvisionedThroughputExceededException",
    "DynamoDb.ThrottlingException",
    "DynamoDb.RequestLimitExceededException",
    "DynamoDb.InternalServerErrorException",
  ],
} as const;

const retry = (errors: readonly string[]) => [
  {
    ErrorEquals: [...errors],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: "FULL",
  },
];
const catchAll = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordError" }];

type Verdict = Extract<
  Deploy.Status,
  "COMPLETED" | "FAILED" | "TIMED_OUT" | "SUPERSEDED" | "ERROR"
>;

export function definition(ctx: Workflow.Context): Workflow.Asl {
  const table = Workflow.nameOf(ctx, "Ledger");
  const revisionFunction = Workflow.arnOf(ctx, "DeployRevision");

  /** Updates the run record; `values` are extra `SET` attributes as DynamoDB values. */
  const record = (
    status: Deploy.Status,
    values: Record<string, Record<string, string>>,
    next: { Next: string } | { End: true },
    extra: Record<string, unknown> = {},
  ) => {
    const names = Object.keys(values);
    return {
      Type: "Task",
      Resource: "arn:aws:states:::aws-sdk:dynamodb:updateItem",
      Parameters: {
        TableName: table,
        Key: { pk: { "S.$": "$.ledger.pk" }, sk: { "S.$": "$.ledger.sk" } },
        UpdateExpression: `SET #status = :status${names.map((n) => `, ${n} = :${n}`).join("")}`,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":status": { S: status },
          ...Object.fromEntries(names.map((n) => [`:${n}`, values[n]])),
        },
      },
      ResultPath: null,
      Retry: retry(TRANSIENT.dynamodb),
      ...next,
      ...extra,
    };
  };
  const finished = { finishedAt: { "S.$": "$$.State.EnteredTime" } };
  const verdict = (status: Verdict, reason: Record<string, string>, values = {}) =>
    record(
      status,
      { ...finished, reason, ...values },
      {
        Next: status === "COMPLETED" || status === "SUPERSEDED" ? "Done" : `Fail${status}`,
      },
    );
  const fail = (status: Verdict) => ({
    Type: "Fail",
    Error: `Deploy.${status}`,
    Cause: "The deploy did not complete; its ledger record (switchyard status) has the reason.",
  });

  return {
    Comment: "Switchyard deploy: pin one ECS service to an image digest and follow the rollout",
    QueryLanguage: "JSONPath",
    StartAt: "DescribeService",
    States: {
      DescribeService: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:ecs:describeServices",
        Parameters: { "Cluster.$": "$.cluster", "Services.$": "States.Array($.service)" },
        ResultSelector: { "services.$": "$.Services" },
        ResultPath: "$.described",
        Retry: retry(TRANSIENT.ecs),
        Catch: catchAll,
        Next: "ServiceFound",
      },
      ServiceFound: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.described.services[0].Status", IsPresent: true },
              { Variable: "$.described.services[0].Status", StringEquals: "ACTIVE" },
            ],
            Next: "RegisterRevision",
          },
        ],
        Default: "ServiceNotFound",
      },
      ServiceNotFound: {
        Type: "Pass",
        Parameters: {
          Error: "ServiceNotFound",
          "Cause.$":
            "States.Format('ECS service {} is not an ACTIVE service of cluster {}. Fix: correct or remove it in deploys[].services', $.service, $.cluster)",
        },
        ResultPath: "$.error",
        Next: "RecordError",
      },
      RegisterRevision: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: {
          FunctionName: revisionFunction,
          Payload: {
            "taskDefinition.$": "$.described.services[0].TaskDefinition",
            "containers.$": "$.containers",
            "image.$": "$.image",
            "roles.$": "$.roles",
          },
        },
        ResultSelector: {
          "taskDefinitionArn.$": "$.Payload.taskDefinitionArn",
          "revision.$": "$.Payload.revision",
          "previousTaskDefinitionArn.$": "$.Payload.previousTaskDefinitionArn",
        },
        ResultPath: "$.registered",
        Retry: retry(TRANSIENT.lambda),
        Catch: catchAll,
        Next: "MarkRollingOut",
      },
      MarkRollingOut: record(
        "ROLLING_OUT",
        {
          revision: { "N.$": "States.Format('{}', $.registered.revision)" },
          taskDefinitionArn: { "S.$": "$.registered.taskDefinitionArn" },
          previousTaskDefinitionArn: { "S.$": "$.registered.previousTaskDefinitionArn" },
          startedAt: { "S.$": "$$.Execution.StartTime" },
        },
        { Next: "UpdateService" },
        { Catch: catchAll },
      ),
      UpdateService: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:ecs:updateService",
        Parameters: {
          "Cluster.$": "$.cluster",
          "Service.$": "$.service",
          "TaskDefinition.$": "$.registered.taskDefinitionArn",
        },
        ResultPath: null,
        Retry: retry(TRANSIENT.ecs),
        Catch: catchAll,
        Next: "StartPolling",
      },
      StartPolling: {
        Type: "Pass",
        Result: { polls: 0 },
        ResultPath: "$.rollout",
        Next: "WaitForRollout",
      },
      WaitForRollout: { Type: "Wait", SecondsPath: "$.pollSeconds", Next: "ObserveService" },
      ObserveService: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:ecs:describeServices",
        Parameters: { "Cluster.$": "$.cluster", "Services.$": "States.Array($.service)" },
        ResultSelector: {
          "deployments.$": "$.Services[0].Deployments",
          "taskDefinitions.$": "$.Services[0].Deployments[*].TaskDefinition",
          "primary.$": "$.Services[0].Deployments[?(@.Status == 'PRIMARY')].TaskDefinition",
        },
        ResultPath: "$.observed",
        Retry: retry(TRANSIENT.ecs),
        Catch: catchAll,
        Next: "IsOursListed",
      },
      IsOursListed: {
        Type: "Pass",
        Parameters: {
          "listed.$":
            "States.ArrayContains($.observed.taskDefinitions, $.registered.taskDefinitionArn)",
        },
        ResultPath: "$.check",
        Next: "StillDeploying",
      },
      // Gone from the list: another deployment (a newer image, or a change outside Switchyard) replaced it.
      StillDeploying: {
        Type: "Choice",
        Choices: [{ Variable: "$.check.listed", BooleanEquals: false, Next: "RecordSuperseded" }],
        Default: "FindDeployment",
      },
      // The deployment that carries our revision (ECS may run several while one replaces another).
      FindDeployment: {
        Type: "Map",
        ItemsPath: "$.observed.deployments",
        ItemSelector: {
          "deployment.$": "$$.Map.Item.Value",
          "target.$": "$.registered.taskDefinitionArn",
          defaults: { RolloutState: "UNKNOWN", RolloutStateReason: "ECS gave no reason" },
        },
        ItemProcessor: {
          StartAt: "IsOurs",
          States: {
            IsOurs: {
              Type: "Choice",
              Choices: [
                {
                  Variable: "$.deployment.TaskDefinition",
                  StringEqualsPath: "$.target",
                  Next: "Ours",
                },
              ],
              Default: "NotOurs",
            },
            Ours: {
              Type: "Pass",
              Parameters: { "d.$": "States.JsonMerge($.defaults, $.deployment, false)" },
              OutputPath: "$.d",
              End: true,
            },
            NotOurs: { Type: "Pass", Result: {}, End: true },
          },
        },
        ResultSelector: { "ours.$": "$[?(@.TaskDefinition)]" },
        ResultPath: "$.found",
        Next: "Verdict",
      },
      Verdict: {
        Type: "Choice",
        Choices: [
          {
            Variable: "$.found.ours[0].RolloutState",
            StringEquals: "COMPLETED",
            Next: "RecordCompleted",
          },
          {
            And: [
              { Variable: "$.found.ours[0].RolloutState", StringEquals: "FAILED" },
              { Variable: "$.observed.primary[0]", IsPresent: true },
            ],
            Next: "RecordRolledBack",
          },
          {
            Variable: "$.found.ours[0].RolloutState",
            StringEquals: "FAILED",
            Next: "RecordFailed",
          },
          {
            Variable: "$.rollout.polls",
            NumericGreaterThanEqualsPath: "$.maxPolls",
            Next: "RecordTimedOut",
          },
        ],
        Default: "CountPoll",
      },
      CountPoll: {
        Type: "Pass",
        Parameters: { "polls.$": "States.MathAdd($.rollout.polls, 1)" },
        ResultPath: "$.rollout",
        Next: "WaitForRollout",
      },
      RecordCompleted: verdict("COMPLETED", { "S.$": "$.found.ours[0].RolloutStateReason" }),
      RecordRolledBack: verdict(
        "FAILED",
        { "S.$": "$.found.ours[0].RolloutStateReason" },
        { rolledBackTo: { "S.$": "$.observed.primary[0]" } },
      ),
      RecordFailed: verdict("FAILED", { "S.$": "$.found.ours[0].RolloutStateReason" }),
      RecordTimedOut: verdict("TIMED_OUT", {
        "S.$":
          "States.Format('the rollout did not reach COMPLETED or FAILED within {} polls; ECS keeps going, check the service', $.maxPolls)",
      }),
      RecordSuperseded: verdict("SUPERSEDED", {
        S: "another deployment replaced this one before it finished (a newer image, or a change outside Switchyard)",
      }),
      RecordError: verdict("ERROR", {
        "S.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
      }),
      Done: { Type: "Succeed" },
      FailFAILED: fail("FAILED"),
      FailTIMED_OUT: fail("TIMED_OUT"),
      FailERROR: fail("ERROR"),
    },
  };
}
