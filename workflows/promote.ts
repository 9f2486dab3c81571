import { Promote, Workflow } from "@switchyard/core";
import { TRANSIENT } from "./deploy";

/**
 * The promote workflow (Standard, JSONPath ASL). The artifact rule starts it with the S3
 * "Object Created" event as input.
 *
 * Admit (the `PromoteAdmit` task: dedupe per object version, never regress, one promotion per
 * alias at a time — supersede or queue) → [stop and undo a superseded promotion] → GetAlias →
 * UpdateFunctionCode from the exact object version, guarded by RevisionId → wait for
 * LastUpdateStatus → reuse a version with identical code, or PublishVersion guarded by
 * CodeSha256 → each traffic step: UpdateAlias with AdditionalVersionWeights, then watch the
 * alarms for the bake → [approval via a task token] → the alias entirely on the new version →
 * [all-at-once's watched bake] → PROMOTED.
 *
 * An alarm in ALARM, a rejection or any error after the first shift goes to Rollback, which
 * puts the alias back on the previous version with no extra weights: the alias is never left
 * split. Errors before the first shift change no traffic and are recorded as FAILED. Every
 * verdict is written to the run's ledger row, and the alias lock is released.
 */

/** An update of the function is still in progress: wait and try again. */
const LAMBDA_BUSY = ["Lambda.ResourceConflictException"];

const retry = (errors: readonly string[], attempts = 6) => ({
  ErrorEquals: [...errors],
  IntervalSeconds: 2,
  MaxAttempts: attempts,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
});

type Verdict = Extract<
  Promote.Status,
  "PROMOTED" | "UNCHANGED" | "ROLLED_BACK" | "FAILED" | "ERROR"
>;

/**
 * A copy of an ItemProcessor with every state name prefixed: state names are unique across a
 * whole state machine, Map processors included, and two Maps here share one processor.
 */
function prefixed<P extends { StartAt: string; States: Record<string, Record<string, unknown>> }>(
  processor: P,
  prefix: string,
): P {
  if (!prefix) return processor;
  const rename = (state: Record<string, unknown>) => {
    const out: Record<string, unknown> = { ...state };
    if (typeof out.Next === "string") out.Next = prefix + out.Next;
    if (typeof out.Default === "string") out.Default = prefix + out.Default;
    if (Array.isArray(out.Choices))
      out.Choices = out.Choices.map((c: Record<string, unknown>) => ({
        ...c,
        Next: prefix + String(c.Next),
      }));
    return out;
  };
  return {
    ...processor,
    StartAt: prefix + processor.StartAt,
    States: Object.fromEntries(
      Object.entries(processor.States).map(([name, state]) => [prefix + name, rename(state)]),
    ),
  };
}

export function definition(ctx: Workflow.Context): Workflow.Asl {
  const table = Workflow.nameOf(ctx, "Ledger");
  const admitFn = Workflow.arnOf(ctx, "PromoteAdmit");
  const resolveFn = Workflow.arnOf(ctx, "PromoteResolve");
  const approvalFn = Workflow.arnOf(ctx, "PromoteApproval");

  const catchTo = (next: string) => [
    { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: next },
  ];

  /** Updates a run's ledger row (key at `keyPath`); `values` are extra `SET` attributes. */
  const update = (
    status: Promote.Status,
    values: Record<string, Record<string, string>>,
    next: string,
    keyPath = "$.run.ledger",
    extra: Record<string, unknown> = {},
  ) => {
    const names = Object.keys(values);
    return {
      Type: "Task",
      Resource: "arn:aws:states:::aws-sdk:dynamodb:updateItem",
      Parameters: {
        TableName: table,
        Key: { pk: { "S.$": `${keyPath}.pk` }, sk: { "S.$": `${keyPath}.sk` } },
        // Every name through `#`: several (e.g. `percent`) are DynamoDB reserved words.
        UpdateExpression: `SET #status = :status, #at = :at${names.map((n) => `, #${n} = :${n}`).join("")}`,
        ExpressionAttributeNames: {
          "#status": "status",
          "#at": "at",
          ...Object.fromEntries(names.map((n) => [`#${n}`, n])),
        },
        ExpressionAttributeValues: {
          ":status": { S: status },
          ":at": { "S.$": "$$.State.EnteredTime" },
          ...Object.fromEntries(names.map((n) => [`:${n}`, values[n]])),
        },
      },
      ResultPath: null,
      Retry: [retry(TRANSIENT.dynamodb)],
      Next: next,
      ...extra,
    };
  };
  const verdict = (status: Verdict, reason: Record<string, string>, values = {}) =>
    update(
      status,
      { reason, finishedAt: { "S.$": "$$.State.EnteredTime" }, ...values },
      `Release${status}`,
    );
  /** Frees the alias for the next promotion (only if this execution still holds it). */
  const release = (status: Verdict) => ({
    Type: "Task",
    Resource: "arn:aws:states:::aws-sdk:dynamodb:updateItem",
    Parameters: {
      TableName: table,
      Key: { pk: { "S.$": "$.run.ledger.pk" }, sk: { S: "lock" } },
      UpdateExpression: "REMOVE #holder, #run",
      ConditionExpression: "#holder = :me",
      ExpressionAttributeNames: { "#holder": "holder", "#run": "run" },
      ExpressionAttributeValues: { ":me": { "S.$": "$$.Execution.Id" } },
    },
    ResultPath: null,
    Retry: [retry(TRANSIENT.dynamodb)],
    Catch: [
      {
        // Superseded meanwhile: the lock is someone else's now.
        ErrorEquals: ["DynamoDb.ConditionalCheckFailedException"],
        ResultPath: null,
        Next: status === "PROMOTED" || status === "UNCHANGED" ? "Done" : `Fail${status}`,
      },
    ],
    Next: status === "PROMOTED" || status === "UNCHANGED" ? "Done" : `Fail${status}`,
  });
  const fail = (status: Verdict) => ({
    Type: "Fail",
    Error: `Promote.${status}`,
    Cause: "The promotion did not complete; its ledger record (switchyard status) has the reason.",
  });
  const alias = (version: string, weights?: string) => ({
    Type: "Task",
    Resource: "arn:aws:states:::aws-sdk:lambda:updateAlias",
    Parameters: {
      "FunctionName.$": "$.function",
      "Name.$": "$.alias",
      "FunctionVersion.$": version,
      RoutingConfig: weights
        ? { "AdditionalVersionWeights.$": weights }
        : { AdditionalVersionWeights: {} },
    },
    ResultPath: null,
  });

  /**
   * One traffic step, run by the Map states below (one item at a time): shift, record, then
   * watch the alarms `checks` times, every `checkSeconds`. An alarm in ALARM fails the step with
   * `Switchyard.AlarmFired`, which the Map's Catch turns into a rollback.
   */
  const stepProcessor = {
    ProcessorConfig: { Mode: "INLINE" },
    StartAt: "IsFinalBake",
    States: {
      IsFinalBake: {
        Type: "Choice",
        Choices: [{ Variable: "$.step.final", BooleanEquals: true, Next: "StartBake" }],
        Default: "Shift",
      },
      Shift: {
        ...alias(
          "$.stable",
          // AdditionalVersionWeights is a map keyed by the version: built with intrinsics.
          "States.StringToJson(States.Format('\\{\"{}\":{}\\}', $.target, $.step.weight))",
        ),
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda)],
        Next: "RecordShift",
      },
      RecordShift: update(
        "SHIFTING",
        { percent: { "N.$": "States.Format('{}', $.step.percent)" } },
        "StartBake",
        "$.ledger",
      ),
      StartBake: {
        Type: "Pass",
        Parameters: { "left.$": "$.step.checks" },
        ResultPath: "$.bake",
        Next: "Baking",
      },
      Baking: {
        Type: "Choice",
        Choices: [{ Variable: "$.bake.left", NumericLessThanEquals: 0, Next: "StepDone" }],
        Default: "BakeWait",
      },
      BakeWait: { Type: "Wait", SecondsPath: "$.step.checkSeconds", Next: "Watched" },
      Watched: {
        Type: "Choice",
        Choices: [{ Variable: "$.alarms[0]", IsPresent: true, Next: "CheckAlarms" }],
        Default: "CountDown",
      },
      CheckAlarms: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:cloudwatch:describeAlarms",
        Parameters: {
          "AlarmNames.$": "$.alarms",
          AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
          StateValue: "ALARM",
        },
        ResultSelector: { "metric.$": "$.MetricAlarms", "composite.$": "$.CompositeAlarms" },
        ResultPath: "$.firing",
        Retry: [
          retry([
            "CloudWatch.ThrottlingException",
            "CloudWatch.InternalServiceException",
            "CloudWatch.ServiceUnavailableException",
          ]),
        ],
        Next: "AlarmStates",
      },
      // Filtered here too (an emulator may ignore StateValue when AlarmNames is given). An alarm
      // deleted mid-bake leaves nothing to read, which fails the step: rolling back is the safe side.
      AlarmStates: {
        Type: "Pass",
        Parameters: { "states.$": "$.firing..StateValue" },
        ResultPath: "$.alarmStates",
        Next: "AnyInAlarm",
      },
      AnyInAlarm: {
        Type: "Pass",
        Parameters: { "firing.$": "States.ArrayContains($.alarmStates.states, 'ALARM')" },
        ResultPath: "$.alarmStates",
        Next: "AnyFiring",
      },
      AnyFiring: {
        Type: "Choice",
        Choices: [{ Variable: "$.alarmStates.firing", BooleanEquals: true, Next: "WhichAlarm" }],
        Default: "CountDown",
      },
      WhichAlarm: {
        Type: "Pass",
        Parameters: { "alarms.$": "$.firing..[?(@.StateValue == 'ALARM')]" },
        ResultPath: "$.fired",
        Next: "AlarmCause",
      },
      AlarmCause: {
        Type: "Pass",
        Parameters: {
          "cause.$":
            "States.Format('alarm {} is in ALARM at {}% on version {}: {}', $.fired.alarms[0].AlarmName, $.step.percent, $.target, $.fired.alarms[0].StateReason)",
        },
        ResultPath: "$.fired",
        Next: "AlarmFired",
      },
      AlarmFired: { Type: "Fail", Error: "Switchyard.AlarmFired", CausePath: "$.fired.cause" },
      CountDown: {
        Type: "Pass",
        Parameters: { "left.$": "States.MathAdd($.bake.left, -1)" },
        ResultPath: "$.bake",
        Next: "Baking",
      },
      StepDone: { Type: "Succeed" },
    },
  };
  const steps = (itemsPath: string, next: string, prefix: string) => ({
    Type: "Map",
    ItemsPath: itemsPath,
    MaxConcurrency: 1,
    ItemSelector: {
      "step.$": "$$.Map.Item.Value",
      "function.$": "$.run.function",
      "alias.$": "$.run.alias",
      "alarms.$": "$.run.alarms",
      "ledger.$": "$.run.ledger",
      "stable.$": "$.current.version",
      "target.$": "$.target.version",
    },
    ItemProcessor: prefixed(stepProcessor, prefix),
    ResultPath: null,
    Catch: catchTo("Rollback"),
    Next: next,
  });

  /** Parameters for alias calls at the top level (the Map items carry their own). */
  const top = { "FunctionName.$": "$.run.function", "Name.$": "$.run.alias" };

  return {
    Comment:
      "Switchyard promote: update a function's code from an exact S3 object version, publish, shift its alias step by step while alarms are watched, then promote or roll back",
    QueryLanguage: "JSONPath",
    StartAt: "Init",
    States: {
      Init: { Type: "Pass", Parameters: { "event.$": "$" }, Next: "Admit" },
      Admit: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: {
          FunctionName: admitFn,
          Payload: { "event.$": "$.event", "execution.$": "$$.Execution.Id" },
        },
        ResultSelector: { "decision.$": "$.Payload" },
        ResultPath: "$.admit",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("AdmitFailed"),
        Next: "Admitted",
      },
      // Admit itself failed (after its retries): the upload is still recorded, with the error.
      AdmitFailed: {
        Type: "Pass",
        Parameters: {
          pk: Promote.keys.unrouted,
          "sk.$": "States.Format('error#{}', $$.Execution.Name)",
        },
        ResultPath: "$.errorKey",
        Next: "RecordAdmitError",
      },
      RecordAdmitError: update(
        "ERROR",
        {
          flow: { S: Promote.FLOW },
          execution: { "S.$": "$$.Execution.Id" },
          finishedAt: { "S.$": "$$.State.EnteredTime" },
          reason: {
            "S.$":
              "States.Format('the upload could not be admitted ({}: {}); nothing was changed. Fix the cause, then start an execution with the same input (switchyard status shows it)', $.error.Error, $.error.Cause)",
          },
        },
        "FailERROR",
        "$.errorKey",
      ),
      Admitted: {
        Type: "Choice",
        Choices: [
          { Variable: "$.admit.decision.action", StringEquals: "run", Next: "Start" },
          { Variable: "$.admit.decision.action", StringEquals: "wait", Next: "Queued" },
        ],
        // Skipped, with the reason recorded by Admit.
        Default: "Done",
      },
      Queued: { Type: "Wait", SecondsPath: "$.admit.decision.waitSeconds", Next: "Admit" },
      Start: {
        Type: "Pass",
        Parameters: { "run.$": "$.admit.decision" },
        Next: "TakingOver",
      },
      TakingOver: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.run.takeover.running", IsPresent: true },
              { Variable: "$.run.takeover.running", BooleanEquals: true },
            ],
            Next: "StopSuperseded",
          },
          { Variable: "$.run.takeover.execution", IsPresent: true, Next: "SupersededShifted" },
        ],
        Default: "GetAlias",
      },
      StopSuperseded: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:sfn:stopExecution",
        Parameters: {
          "ExecutionArn.$": "$.run.takeover.execution",
          Error: "Switchyard.Superseded",
          "Cause.$": "States.Format('superseded by execution {}', $$.Execution.Name)",
        },
        ResultPath: null,
        Retry: [retry(["Sfn.ThrottlingException", "Sfn.ServiceUnavailableException"])],
        Catch: [
          {
            // It finished on its own in the meantime.
            ErrorEquals: ["Sfn.ExecutionDoesNotExistException", "Sfn.ExecutionDoesNotExist"],
            ResultPath: null,
            Next: "SupersededShifted",
          },
          ...catchTo("RecordError"),
        ],
        Next: "SupersededShifted",
      },
      SupersededShifted: {
        Type: "Choice",
        Choices: [
          { Variable: "$.run.takeover.stableVersion", IsPresent: true, Next: "RestoreSuperseded" },
        ],
        Default: "RecordSuperseded",
      },
      RestoreSuperseded: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:updateAlias",
        Parameters: {
          ...top,
          "FunctionVersion.$": "$.run.takeover.stableVersion",
          RoutingConfig: { AdditionalVersionWeights: {} },
        },
        ResultPath: null,
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordError"),
        Next: "RecordSuperseded",
      },
      RecordSuperseded: {
        ...update(
          "SUPERSEDED",
          {
            reason: {
              "S.$":
                "States.Format('superseded by execution {} (a newer upload); its traffic was put back', $$.Execution.Name)",
            },
            finishedAt: { "S.$": "$$.State.EnteredTime" },
          },
          "GetAlias",
          "$.run.takeover.ledger",
        ),
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: "GetAlias" }],
      },
      GetAlias: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:getAlias",
        Parameters: top,
        ResultSelector: { "version.$": "$.FunctionVersion" },
        ResultPath: "$.current",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordFailed"),
        Next: "GetRevision",
      },
      GetRevision: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:getFunctionConfiguration",
        Parameters: { "FunctionName.$": "$.run.function" },
        ResultSelector: { "revisionId.$": "$.RevisionId" },
        ResultPath: "$.revision",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordFailed"),
        Next: "RecordUpdating",
      },
      RecordUpdating: update(
        "UPDATING",
        { previousVersion: { "S.$": "$.current.version" } },
        "UpdateCode",
        "$.run.ledger",
        { Catch: catchTo("RecordFailed") },
      ),
      UpdateCode: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:updateFunctionCode",
        Parameters: {
          "FunctionName.$": "$.run.function",
          "S3Bucket.$": "$.run.bucket",
          "S3Key.$": "$.run.key",
          "S3ObjectVersion.$": "$.run.versionId",
          // Fails if the function changed since GetRevision; then read it again.
          "RevisionId.$": "$.revision.revisionId",
        },
        ResultSelector: { "codeSha256.$": "$.CodeSha256" },
        ResultPath: "$.code",
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda)],
        Catch: [
          {
            ErrorEquals: ["Lambda.PreconditionFailedException"],
            ResultPath: null,
            Next: "GetRevision",
          },
          ...catchTo("RecordFailed"),
        ],
        Next: "WaitUpdated",
      },
      WaitUpdated: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:getFunctionConfiguration",
        Parameters: { "FunctionName.$": "$.run.function" },
        ResultPath: "$.update",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordFailed"),
        Next: "Updated",
      },
      Updated: {
        Type: "Choice",
        Choices: [
          { Variable: "$.update.LastUpdateStatus", StringEquals: "Successful", Next: "Resolve" },
          { Variable: "$.update.LastUpdateStatus", StringEquals: "Failed", Next: "UpdateFailed" },
        ],
        Default: "UpdatePending",
      },
      UpdatePending: { Type: "Wait", Seconds: 2, Next: "WaitUpdated" },
      UpdateFailed: {
        Type: "Pass",
        Parameters: {
          Error: "Lambda.UpdateFailed",
          "Cause.$":
            "States.Format('Lambda could not apply the new code ({}): {}', $.update.LastUpdateStatusReasonCode, $.update.LastUpdateStatusReason)",
        },
        ResultPath: "$.error",
        Next: "RecordFailed",
      },
      Resolve: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: {
          FunctionName: resolveFn,
          Payload: { "function.$": "$.run.function", "codeSha256.$": "$.code.codeSha256" },
        },
        ResultSelector: { "found.$": "$.Payload" },
        ResultPath: "$.resolved",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordFailed"),
        Next: "Reuse",
      },
      Reuse: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.resolved.found.version", IsPresent: true },
              { Variable: "$.resolved.found.version", StringEqualsPath: "$.current.version" },
            ],
            Next: "RecordUnchanged",
          },
          { Variable: "$.resolved.found.version", IsPresent: true, Next: "ReuseVersion" },
        ],
        Default: "Publish",
      },
      ReuseVersion: {
        Type: "Pass",
        Parameters: { "version.$": "$.resolved.found.version", reused: true },
        ResultPath: "$.target",
        Next: "RecordShifting",
      },
      Publish: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:publishVersion",
        Parameters: {
          "FunctionName.$": "$.run.function",
          // Publishes only if $LATEST still has exactly the code this run uploaded.
          "CodeSha256.$": "$.code.codeSha256",
          "Description.$":
            "States.Format('switchyard: s3://{}/{} version {}', $.run.bucket, $.run.key, $.run.versionId)",
        },
        ResultSelector: { "version.$": "$.Version", reused: false },
        ResultPath: "$.target",
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda)],
        Catch: catchTo("RecordFailed"),
        Next: "RecordShifting",
      },
      RecordShifting: update(
        "SHIFTING",
        {
          version: { "S.$": "$.target.version" },
          codeSha256: { "S.$": "$.code.codeSha256" },
          percent: { N: "0" },
        },
        "Steps",
        "$.run.ledger",
        { Catch: catchTo("Rollback") },
      ),
      Steps: steps("$.run.steps", "NeedsApproval", ""),
      NeedsApproval: {
        Type: "Choice",
        Choices: [{ Variable: "$.run.approval", BooleanEquals: true, Next: "AwaitApproval" }],
        Default: "PromoteAll",
      },
      AwaitApproval: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: {
          FunctionName: approvalFn,
          Payload: {
            "token.$": "$$.Task.Token",
            "ledger.$": "$.run.ledger",
            "function.$": "$.run.function",
            "alias.$": "$.run.alias",
            "version.$": "$.target.version",
          },
        },
        // An unanswered approval rolls back after a week rather than keeping the canary forever.
        TimeoutSeconds: 7 * 86_400,
        ResultPath: "$.approved",
        Retry: [retry(TRANSIENT.lambda)],
        Catch: catchTo("Rollback"),
        Next: "PromoteAll",
      },
      PromoteAll: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:updateAlias",
        Parameters: {
          ...top,
          "FunctionVersion.$": "$.target.version",
          RoutingConfig: { AdditionalVersionWeights: {} },
        },
        ResultPath: null,
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda)],
        Catch: catchTo("Rollback"),
        Next: "FinalBake",
      },
      FinalBake: steps("$.run.finalBake", "RecordPromoted", "Final"),
      RecordPromoted: verdict(
        "PROMOTED",
        {
          "S.$":
            "States.Format('{} now on version {} ({})', $.run.alias, $.target.version, $.run.strategy)",
        },
        { percent: { N: "100" } },
      ),
      RecordUnchanged: verdict(
        "UNCHANGED",
        {
          "S.$":
            "States.Format('identical code: {} is already on version {}, which has this code; nothing to do', $.run.alias, $.resolved.found.version)",
        },
        {
          version: { "S.$": "$.resolved.found.version" },
          codeSha256: { "S.$": "$.code.codeSha256" },
        },
      ),
      Rollback: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:lambda:updateAlias",
        Parameters: {
          ...top,
          "FunctionVersion.$": "$.current.version",
          RoutingConfig: { AdditionalVersionWeights: {} },
        },
        ResultPath: null,
        Retry: [retry(LAMBDA_BUSY, 10), retry(TRANSIENT.lambda, 8)],
        Catch: [
          { ErrorEquals: ["States.ALL"], ResultPath: "$.rollbackError", Next: "RecordSplit" },
        ],
        Next: "RecordRolledBack",
      },
      RecordRolledBack: verdict(
        "ROLLED_BACK",
        {
          "S.$":
            "States.Format('{}: {}; {} is back on version {}', $.error.Error, $.error.Cause, $.run.alias, $.current.version)",
        },
        { percent: { N: "0" } },
      ),
      RecordSplit: verdict("ERROR", {
        "S.$":
          "States.Format('{}: {}; then putting the alias back failed ({}: {}). Run switchyard promote rollback --function {}', $.error.Error, $.error.Cause, $.rollbackError.Error, $.rollbackError.Cause, $.run.function)",
      }),
      RecordFailed: verdict("FAILED", {
        "S.$": "States.Format('{}: {} (the alias was not changed)', $.error.Error, $.error.Cause)",
      }),
      RecordError: verdict("ERROR", {
        "S.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
      }),
      ReleasePROMOTED: release("PROMOTED"),
      ReleaseUNCHANGED: release("UNCHANGED"),
      ReleaseROLLED_BACK: release("ROLLED_BACK"),
      ReleaseFAILED: release("FAILED"),
      ReleaseERROR: release("ERROR"),
      Done: { Type: "Succeed" },
      FailROLLED_BACK: fail("ROLLED_BACK"),
      FailFAILED: fail("FAILED"),
      FailERROR: fail("ERROR"),
    },
  };
}
