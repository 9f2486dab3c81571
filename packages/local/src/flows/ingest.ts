import { generateKeyPairSync } from "node:crypto";
import { CreateJobCommand } from "@aws-sdk/client-glue";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import type { Clients } from "@switchyard/aws";
import type { Config } from "@switchyard/core";
import { startSnowflakeStandIn } from "../snowflake";
import type { LocalFlowPlugin, PluginContext, SeedResult } from "./index";

/**
 * The ingest flow's local extras:
 * - every configured Glue job exists in the emulator (moto runs them: STARTING → RUNNING →
 *   SUCCEEDED as they are polled, and refuses a run beyond `MaxConcurrentRuns` with
 *   ConcurrentRunsExceededException, as Glue does);
 * - the Snowflake stand-in runs on a loopback port, with each dataset's external table staged on
 *   its bucket in the emulator's S3; a fresh RSA key pair is generated, its private key stored
 *   where the config says (SSM or Secrets Manager in the emulator) and its public key given to
 *   the stand-in, which verifies the JWT like Snowflake does. The `Snowflake` link gets the
 *   stand-in's `accessUrl`.
 */

/** Glue allows one run of a job at a time unless told otherwise; the demo allows two. */
export const DEMO_MAX_CONCURRENT_RUNS = 2;

export async function seedGlueJobs(
  clients: Clients,
  datasets: readonly Config.Dataset[],
  account: string,
) {
  for (const job of new Set(datasets.flatMap((d) => d.glueJobs))) {
    await clients.glue
      .send(
        new CreateJobCommand({
          Name: job,
          Role: `arn:aws:iam::${account}:role/demo-glue`,
          Command: {
            Name: "glueetl",
            ScriptLocation: `s3://demo-scripts/${job}.py`,
            PythonVersion: "3",
          },
          GlueVersion: "4.0",
          ExecutionProperty: { MaxConcurrentRuns: DEMO_MAX_CONCURRENT_RUNS },
        }),
      )
      .catch((e: unknown) => {
        if (
          (e as Error).name !== "AlreadyExistsException" &&
          (e as Error).name !== "IdempotentParameterMismatchException"
        )
          throw e;
      });
  }
}

/**
 * Makes moto's Glue job runs move one state per read (STARTING → RUNNING → SUCCEEDED) instead of
 * finishing at once, so a run occupies its job while it is polled and Glue's MaxConcurrentRuns
 * really refuses extra runs, as in AWS.
 */
export async function glueRunsProgressWhenPolled(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({
      model_name: "glue::job_run",
      transition: { progression: "manual", times: 1 },
    }),
  });
  if (!response.ok)
    throw new Error(`moto refused the Glue run transition: HTTP ${response.status}`);
}

/** Stores a PEM private key where `privateKey` points, in the emulator. */
export async function storePrivateKey(
  clients: Clients,
  privateKey: Config.SnowflakeConnection["privateKey"],
  pem: string,
): Promise<void> {
  if ("parameterName" in privateKey) {
    await clients.ssm.send(
      new PutParameterCommand({
        Name: privateKey.parameterName,
        Value: pem,
        Type: "SecureString",
        Overwrite: true,
      }),
    );
    return;
  }
  const name = privateKey.secretArn.split(":secret:")[1] ?? "snowflake-private-key";
  try {
    await clients.secrets.send(new CreateSecretCommand({ Name: name, SecretString: pem }));
  } catch (error) {
    if ((error as Error).name !== "ResourceExistsException") throw error;
    await clients.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: pem }));
  }
}

export const ingestPlugin: LocalFlowPlugin = {
  flow: "ingest",
  async seed(ctx: PluginContext): Promise<SeedResult> {
    await glueRunsProgressWhenPolled(ctx.endpoint);
    await seedGlueJobs(ctx.clients, ctx.config.datasets, ctx.provisioned.account);
    const snowflake = ctx.config.snowflake;
    if (!snowflake) return {};
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await storePrivateKey(
      ctx.clients,
      snowflake.privateKey,
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    );
    const standIn = await startSnowflakeStandIn({
      s3: ctx.clients.s3,
      stages: Object.fromEntries(
        ctx.config.datasets.map((d) => [
          d.snowflake.table.toUpperCase(),
          { bucket: d.bucket, prefix: "" },
        ]),
      ),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      log: ctx.log,
    });
    ctx.log(
      `[local] ingest: Snowflake stand-in on ${standIn.accessUrl}; Glue jobs ${[...new Set(ctx.config.datasets.flatMap((d) => d.glueJobs))].join(", ")}`,
    );
    return {
      links: { Snowflake: { accessUrl: standIn.accessUrl } },
      stop: () => standIn.close(),
      services: { snowflake: standIn },
    };
  },
};
