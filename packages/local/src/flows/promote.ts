import { createHash } from "node:crypto";
import {
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CreateRoleCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { Clients } from "@switchyard/aws";
import type { Config } from "@switchyard/core";
import { awsSdkBinding, statesErrorFromSdk } from "../bindings";
import type { ResourceBinding } from "../sfn";
import { StatesError } from "../sfn";
import { demoPackage } from "../zip";
import type { LocalFlowPlugin, PluginContext } from "./index";

/**
 * The promote flow's local extras.
 *
 * - `seed`: each configured function exists in the emulator with a real (tiny) zip, version 1
 *   published and the alias on it; each named alarm exists, in state OK. Tests and demos force a
 *   rollback with `SetAlarmState`.
 * - Guards moto does not enforce are simulated, and logged: UpdateFunctionCode reads the
 *   exact `S3ObjectVersion` (moto reads the key's newest version) and checks `RevisionId`
 *   (moto has none: `localRevisionId` derives one), and PublishVersion checks `CodeSha256`
 *   against $LATEST.
 */

export const LOCAL_ROLE = "switchyard-local-function";

const exists = (e: unknown) => {
  if (!/Conflict|AlreadyExists|EntityAlreadyExists/.test((e as Error).name)) throw e;
};

/** Creates the configured functions, aliases and alarms, if missing (idempotent). */
export async function seedPromotions(
  clients: Clients,
  promotions: readonly Config.Promotion[],
  account: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (promotions.length === 0) return;
  const role = await clients.iam
    .send(new GetRoleCommand({ RoleName: LOCAL_ROLE }))
    .then((r) => r.Role?.Arn)
    .catch(async () => {
      const created = await clients.iam.send(
        new CreateRoleCommand({
          RoleName: LOCAL_ROLE,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "lambda.amazonaws.com" },
                Action: "sts:AssumeRole",
              },
            ],
          }),
        }),
      );
      return created.Role?.Arn;
    });
  for (const p of promotions) {
    const existing = await clients.lambda
      .send(new GetFunctionConfigurationCommand({ FunctionName: p.function }))
      .catch(() => undefined);
    if (!existing) {
      await clients.lambda
        .send(
          new CreateFunctionCommand({
            FunctionName: p.function,
            Runtime: "nodejs22.x",
            Handler: "index.handler",
            Role: role ?? `arn:aws:iam::${account}:role/${LOCAL_ROLE}`,
            Code: { ZipFile: demoPackage("initial") },
          }),
        )
        .catch(exists);
    }
    const alias = await clients.lambda
      .send(new GetAliasCommand({ FunctionName: p.function, Name: p.alias }))
      .catch(() => undefined);
    if (!alias) {
      const { Version } = await clients.lambda.send(
        new PublishVersionCommand({ FunctionName: p.function, Description: "initial" }),
      );
      await clients.lambda
        .send(
          new CreateAliasCommand({
            FunctionName: p.function,
            Name: p.alias,
            FunctionVersion: Version ?? "1",
          }),
        )
        .catch(exists);
    }
    for (const alarm of p.alarms) {
      const { MetricAlarms = [] } = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: [alarm] }),
      );
      if (MetricAlarms.length > 0) continue;
      await clients.cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm,
          AlarmDescription: `errors of ${p.function}:${p.alias} (local demo alarm)`,
          Namespace: "AWS/Lambda",
          MetricName: "Errors",
          Dimensions: [{ Name: "Resource", Value: `${p.function}:${p.alias}` }],
          Statistic: "Sum",
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: "GreaterThanOrEqualToThreshold",
        }),
      );
      await clients.cloudwatch.send(
        new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "OK", StateReason: "seeded" }),
      );
    }
    log(
      `[local] promote: function ${p.function} with alias ${p.alias}; alarms ${p.alarms.join(", ") || "none"}; artifacts s3://${p.bucket}/${p.prefix}*.zip`,
    );
  }
}

/**
 * moto's function configuration has no RevisionId: the local one is derived from what a change
 * to the function changes (its code and modification time), so it moves with every update.
 */
export const localRevisionId = (c: {
  RevisionId?: string;
  CodeSha256?: string;
  LastModified?: string;
}) =>
  c.RevisionId ??
  createHash("sha256")
    .update(`${c.CodeSha256}|${c.LastModified}`)
    .digest("hex")
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");

/** GetFunctionConfiguration with a RevisionId (see `localRevisionId`). */
function getFunctionConfiguration(clients: Clients): ResourceBinding {
  const sdk = awsSdkBinding(clients);
  return async (input, ctx) => {
    const out = (await sdk(input, ctx)) as Record<string, string>;
    return { ...out, RevisionId: localRevisionId(out) };
  };
}

/** UpdateFunctionCode from the exact object version, with the RevisionId check. */
function updateFunctionCode(clients: Clients, log: (line: string) => void): ResourceBinding {
  return async (input) => {
    const p = (input ?? {}) as {
      FunctionName: string;
      S3Bucket: string;
      S3Key: string;
      S3ObjectVersion?: string;
      RevisionId?: string;
    };
    try {
      if (p.RevisionId) {
        const current = await clients.lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: p.FunctionName }),
        );
        if (localRevisionId(current) !== p.RevisionId)
          throw new StatesError(
            "Lambda.PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id.",
          );
      }
      const object = await clients.s3
        .send(
          new GetObjectCommand({ Bucket: p.S3Bucket, Key: p.S3Key, VersionId: p.S3ObjectVersion }),
        )
        .catch((e: Error) => {
          throw new StatesError(
            "Lambda.InvalidParameterValueException",
            `Error occurred while GetObject. S3 Error Code: ${e.name}. S3 Error Message: ${e.message}`,
          );
        });
      const bytes = await object.Body?.transformToByteArray();
      log(
        `[local] promote: UpdateFunctionCode ${p.FunctionName} from s3://${p.S3Bucket}/${p.S3Key} version ${p.S3ObjectVersion} (simulated: moto would read the newest version)`,
      );
      const out = await clients.lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: p.FunctionName, ZipFile: bytes }),
      );
      const { $metadata: _m, ...rest } = out;
      return JSON.parse(JSON.stringify({ ...rest, RevisionId: localRevisionId(rest) }));
    } catch (error) {
      throw statesErrorFromSdk("Lambda", error);
    }
  };
}

/** PublishVersion, refusing when $LATEST's code is not `CodeSha256` (moto ignores the guard). */
function publishVersion(clients: Clients): ResourceBinding {
  const sdk = awsSdkBinding(clients);
  return async (input, ctx) => {
    const p = (input ?? {}) as { FunctionName: string; CodeSha256?: string };
    if (p.CodeSha256) {
      const current = await clients.lambda
        .send(new GetFunctionConfigurationCommand({ FunctionName: p.FunctionName }))
        .catch((e) => {
          throw statesErrorFromSdk("Lambda", e);
        });
      if (current.CodeSha256 !== p.CodeSha256)
        throw new StatesError(
          "Lambda.InvalidParameterValueException",
          `CodeSha256 (${p.CodeSha256}) is different from current CodeSha256 in $LATEST (${current.CodeSha256}). Please try again.`,
        );
    }
    return sdk(input, ctx);
  };
}

export const promotePlugin: LocalFlowPlugin = {
  flow: "promote",
  async seed(ctx: PluginContext) {
    await seedPromotions(ctx.clients, ctx.config.promotions, ctx.provisioned.account, ctx.log);
    return {};
  },
  bindings(ctx: PluginContext) {
    return {
      "arn:aws:states:::aws-sdk:lambda:updateFunctionCode": updateFunctionCode(
        ctx.clients,
        ctx.log,
      ),
      "arn:aws:states:::aws-sdk:lambda:publishVersion": publishVersion(ctx.clients),
      "arn:aws:states:::aws-sdk:lambda:getFunctionConfiguration": getFunctionConfiguration(
        ctx.clients,
      ),
    };
  },
};
