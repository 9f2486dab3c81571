import { type Ingest, Topology, Workflow } from "@switchyard/core";

/**
 * The ingest workflow (Standard, JSONPath ASL): one execution per dataset batch, with the input
 * `Ingest.WorkflowInput`, named after the batch's manifest hash.
 *
 * RecordRunning → the dataset's Glue jobs in order, each `glue:startJobRun.sync` with
 * `--manifest s3://…` (only those files) → `IngestRefresh` (Snowflake REFRESH per partition
 * path) → RecordIngested. A Glue job that fails stops the pipeline and is recorded with its error.
 *
 * Retries: `Glue.ConcurrentRunsExceededException` and throttling, with backoff and full jitter.
 * Both mean Glue refused to start the run, so a retry never starts a second run of the job;
 * server errors of StartJobRun are not retried, because the run may have started.
 */

const GLUE_REFUSED = ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"];
const LAMBDA_TRANSIENT = [
  "Lambda.TooManyRequestsException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  // Raised by IngestRefresh when Snowflake stayed unavailable through its own retries.
  "SnowflakeUnavailable",
];
const DYNAMO_TRANSIENT = [
  "DynamoDb.ProvisionedThroughputExceededException",
  "DynamoDb.ThrottlingException",
  "DynamoDb.RequestLimitExceededException",
  "DynamoDb.InternalServerErrorException",
];

export function definition(ctx: Workflow.Context): Workflow.Asl {
  const table = Workflow.nameOf(ctx, "Ledger");
  const refreshFunction = Workflow.arnOf(ctx, "IngestRefresh");
  const settings = ctx.topology.settings.find((s) => s.id === "IngestConfig");
  const datasets = ((settings?.value.datasets ?? []) as { name: string; glueJobs: string[] }[]).map(
    (d) => ({ name: d.name, jobs: d.glueJobs, prefix: Topology.pascal(d.name) }),
  );

  const update = (
    expression: string,
    values: Record<string, unknown>,
    next: Record<string, unknown>,
    names: Record<string, string> = {},
  ) => ({
    Type: "Task",
    Resource: "arn:aws:states:::aws-sdk:dynamodb:updateItem",
    Parameters: {
      TableName: table,
      Key: { pk: { "S.$": "$.ledger.pk" }, sk: { "S.$": "$.ledger.sk" } },
      UpdateExpression: expression,
      // DynamoDB refuses names an expression does not use.
      ExpressionAttributeNames: {
        ...(expression.includes("#status") ? { "#status": "status" } : {}),
        ...names,
      },
      ExpressionAttributeValues: values,
    },
    ResultPath: null,
    Retry: [
      {
        ErrorEquals: DYNAMO_TRANSIENT,
        IntervalSeconds: 1,
        MaxAttempts: 6,
        BackoffRate: 2,
        JitterStrategy: "FULL",
      },
    ],
    ...next,
  });
  const status = (s: Ingest.Status) => ({ S: s });

  const states: Record<string, Record<string, unknown>> = {
    RecordRunning: update(
      "SET #status = :s, startedAt = :t, glueRuns = :none",
      { ":s": status("RUNNING"), ":t": { "S.$": "$$.Execution.StartTime" }, ":none": { M: {} } },
      { Next: "WhichDataset" },
    ),
    WhichDataset: {
      Type: "Choice",
      Choices: datasets.map((d) => ({
        Variable: "$.dataset",
        StringEquals: d.name,
        Next: `${d.prefix}Job0`,
      })),
      Default: "UnknownDataset",
    },
    UnknownDataset: {
      Type: "Pass",
      Parameters: {
        Error: "UnknownDataset",
        "Cause.$": "States.Format('dataset {} is not configured on this stage', $.dataset)",
        job: "-",
      },
      ResultPath: "$.error",
      Next: "RecordGlueFailed",
    },
  };

  for (const d of datasets) {
    d.jobs.forEach((job, i) => {
      const next = i + 1 < d.jobs.length ? `${d.prefix}Job${i + 1}` : "Refresh";
      states[`${d.prefix}Job${i}`] = {
        Type: "Task",
        Comment: `Glue job ${job}`,
        Resource: "arn:aws:states:::glue:startJobRun.sync",
        Parameters: {
          JobName: job,
          Arguments: {
            "--manifest.$": "$.manifest",
            "--dataset.$": "$.dataset",
            "--batch.$": "$.batch",
          },
        },
        ResultSelector: { "id.$": "$.Id", "state.$": "$.JobRunState" },
        ResultPath: "$.run",
        Retry: [
          {
            ErrorEquals: GLUE_REFUSED,
            IntervalSeconds: 5,
            MaxAttempts: 10,
            BackoffRate: 2,
            MaxDelaySeconds: 120,
            JitterStrategy: "FULL",
          },
        ],
        Catch: [
          {
            ErrorEquals: ["States.ALL"],
            ResultPath: "$.error",
            Next: `${d.prefix}Job${i}Failed`,
          },
        ],
        Next: `${d.prefix}Job${i}Done`,
      };
      states[`${d.prefix}Job${i}Done`] = update(
        "SET glueRuns.#job = :run",
        { ":run": { "S.$": "$.run.id" } },
        { Next: next },
        { "#job": job },
      );
      states[`${d.prefix}Job${i}Failed`] = {
        Type: "Pass",
        Parameters: { "Error.$": "$.error.Error", "Cause.$": "$.error.Cause", job },
        ResultPath: "$.error",
        Next: "RecordGlueFailed",
      };
    });
  }

  Object.assign(states, {
    RecordGlueFailed: update(
      "SET #status = :s, failedJob = :job, reason = :r, finishedAt = :t",
      {
        ":s": status("GLUE_FAILED"),
        ":job": { "S.$": "States.Format('{}', $.error.job)" },
        ":r": { "S.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)" },
        ":t": { "S.$": "$$.State.EnteredTime" },
      },
      { Next: "GlueFailed" },
    ),
    GlueFailed: {
      Type: "Fail",
      Error: "Ingest.GLUE_FAILED",
      Cause:
        "A Glue job failed and the pipeline stopped; the batch's ledger record has the job and its error.",
    },
    Refresh: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: {
        FunctionName: refreshFunction,
        Payload: { "ledger.$": "$.ledger", "table.$": "$.table", "partitions.$": "$.partitions" },
      },
      ResultSelector: { "summary.$": "$.Payload" },
      ResultPath: "$.refresh",
      Retry: [
        {
          ErrorEquals: LAMBDA_TRANSIENT,
          IntervalSeconds: 10,
          MaxAttempts: 3,
          BackoffRate: 2,
          JitterStrategy: "FULL",
        },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordRefreshFailed" }],
      Next: "RecordIngested",
    },
    RecordRefreshFailed: update(
      "SET #status = :s, reason = :r, finishedAt = :t",
      {
        ":s": status("REFRESH_FAILED"),
        ":r": { "S.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)" },
        ":t": { "S.$": "$$.State.EnteredTime" },
      },
      { Next: "RefreshFailed" },
    ),
    RefreshFailed: {
      Type: "Fail",
      Error: "Ingest.REFRESH_FAILED",
      Cause:
        "The Glue jobs ran but the Snowflake refresh failed; the batch's ledger record has the error.",
    },
    RecordIngested: update(
      "SET #status = :s, finishedAt = :t",
      { ":s": status("INGESTED"), ":t": { "S.$": "$$.State.EnteredTime" } },
      { Next: "Ingested" },
    ),
    Ingested: { Type: "Succeed" },
  });

  return {
    Comment:
      "Switchyard ingest: one dataset batch through its Glue jobs, then the Snowflake refresh",
    QueryLanguage: "JSONPath",
    StartAt: "RecordRunning",
    States: states,
  };
}
