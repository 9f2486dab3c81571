import { DeleteAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeReplayCommand,
  PutEventsCommand,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { GetAliasCommand, ListVersionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { Promote as PromoteAws } from "../../packages/aws/src";
import { type Config, Promote } from "../../packages/core/src";
import { type LocalRuntime, startLocal } from "../../packages/local/src/runtime";
import { demoPackage } from "../../packages/local/src/zip";
import switchyardConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";
import { objectCreated } from "../support/factories";

/**
 * Lambda version promotion, end to end: a zip PutObject to the emulator's versioned artifact
 * bucket → S3's EventBridge event → the promote rule → the promote workflow (run from its ASL)
 * → the emulator's Lambda (code, versions, alias routing) and CloudWatch (alarms).
 */
const { endpoint } = useEmulator();

let rt: LocalRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

const base = switchyardConfig as Config.ConfigInput;
const localApi = (base.stages?.local?.promotions ?? [])[0] as Config.PromotionInput;

/** The project's config with the local `api` promotion changed by `change`. */
const withApi = (change: Partial<Config.PromotionInput>): Config.ConfigInput => ({
  ...base,
  stages: {
    ...base.stages,
    local: { ...base.stages?.local, promotions: [{ ...localApi, ...change }] },
  },
});

const start = async (
  change: Partial<Config.PromotionInput> = {},
  timeScale = 1,
): Promise<LocalRuntime> => {
  rt = await startLocal({
    endpoint,
    stage: "local",
    config: withApi(change),
    stateFile: false,
    timeScale,
  });
  return rt;
};

/** Uploads build `name` (its code says so) to s3://demo-artifacts/api/<file>; returns the version id. */
async function upload(r: LocalRuntime, build: string, file = `${build}.zip`) {
  const out = await r.clients.s3.send(
    new PutObjectCommand({
      Bucket: "demo-artifacts",
      Key: `api/${file}`,
      Body: demoPackage(build),
    }),
  );
  expect(out.VersionId).toBeTruthy();
  return out.VersionId as string;
}

const alias = async (r: LocalRuntime) => {
  const a = await r.clients.lambda.send(new GetAliasCommand({ FunctionName: "api", Name: "live" }));
  return {
    version: a.FunctionVersion,
    weights: a.RoutingConfig?.AdditionalVersionWeights ?? {},
  };
};

const versions = async (r: LocalRuntime) =>
  (
    (await r.clients.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "api" })))
      .Versions ?? []
  )
    .map((v) => v.Version)
    .filter((v) => v !== "$LATEST");

async function rows(r: LocalRuntime, prefix = "run#") {
  const { Items = [] } = await r.clients.doc.send(
    new QueryCommand({
      TableName: r.provisioned.tables.Ledger?.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":pk": Promote.keys.alias("api", "live"), ":p": prefix },
    }),
  );
  return Items.map((i) => Promote.Row.parse(i));
}

const runOf = async (r: LocalRuntime, versionId: string) =>
  (await rows(r)).find((x) => x.versionId === versionId);

/** Polls `check` every 50 ms until it returns a value (or fails after `ms`). */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe("promote: artifact upload → new version → alias canary → promoted or rolled back", () => {
  it("promotes a new build: live at 10% on it during the bake, then entirely on it; PROMOTED recorded", async () => {
    // Prepare
    const r = await start();
    expect(await alias(r)).toEqual({ version: "1", weights: {} });
    // Act
    const versionId = await upload(r, "build-2");
    const during = await until("the canary", async () => {
      const a = await alias(r);
      return Object.keys(a.weights).length > 0 ? a : undefined;
    });
    await r.idle(30_000);
    // Assess
    expect(during).toEqual({ version: "1", weights: { "2": 0.1 } });
    expect(await alias(r)).toEqual({ version: "2", weights: {} });
    expect(await versions(r)).toEqual(["1", "2"]);
    const run = await runOf(r, versionId);
    expect(run).toMatchObject({
      status: "PROMOTED",
      version: "2",
      previousVersion: "1",
      percent: 100,
      strategy: "canary 10% for 3 s",
    });
    expect(run?.reason).toMatch(/live now on version 2/);
  });

  it("rolls back the moment the alarm fires mid-canary: live back on the old version, ROLLED_BACK", async () => {
    // Prepare
    const r = await start({ strategy: { type: "canary", percent: 10, bakeSeconds: 30 } });
    // Act
    const versionId = await upload(r, "build-bad");
    await until("the canary", async () =>
      Object.keys((await alias(r)).weights).length > 0 ? true : undefined,
    );
    const fired = Date.now();
    await r.clients.cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: "api-errors",
        StateValue: "ALARM",
        StateReason: "Threshold Crossed: 5 errors",
      }),
    );
    const run = await until("the rollback", async () => {
      const x = await runOf(r, versionId);
      return x && Promote.FINAL.includes(x.status) ? x : undefined;
    });
    // Assess: well before the 30 s bake ends (alarms are checked every 3 s here).
    expect(Date.now() - fired).toBeLessThan(10_000);
    expect(run).toMatchObject({ status: "ROLLED_BACK", version: "2", previousVersion: "1" });
    expect(run.reason).toMatch(/alarm api-errors is in ALARM at 10% on version 2/);
    expect(await alias(r)).toEqual({ version: "1", weights: {} });
  });

  it("reuses the version for identical code uploaded twice, and leaves the alias alone", async () => {
    // Prepare
    const r = await start({}, 0.01);
    await upload(r, "build-2", "first.zip");
    await r.idle(30_000);
    // Act: the same bytes under another key
    const again = await upload(r, "build-2", "again.zip");
    await r.idle(30_000);
    // Assess
    expect(await versions(r)).toEqual(["1", "2"]);
    expect(await alias(r)).toEqual({ version: "2", weights: {} });
    expect(await runOf(r, again)).toMatchObject({ status: "UNCHANGED", version: "2" });
  });

  it("a duplicate delivery or replay of the same upload promotes nothing again", async () => {
    // Prepare
    const r = await start({}, 0.01);
    const versionId = await upload(r, "build-2");
    await r.idle(30_000);
    const event = objectCreated({ bucket: "demo-artifacts", key: "api/build-2.zip", versionId });
    // Act: the same object version, delivered twice more
    for (let i = 0; i < 2; i++)
      await r.clients.events.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: "aws.s3",
              DetailType: "Object Created",
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
    await r.idle(30_000);
    // Assess
    expect(await versions(r)).toEqual(["1", "2"]);
    expect((await rows(r)).filter((x) => x.status === "PROMOTED")).toHaveLength(1);
    const skips = await rows(r, "skip#");
    expect(skips).toHaveLength(2);
    for (const s of skips) expect(s.reason).toMatch(/^duplicate: .*already handled/);
  });

  it("an archive replay of the upload repeats nothing", async () => {
    // Prepare: one promotion, done. moto archives only events put with PutEvents, so the
    // upload's event is also put once that way (a duplicate delivery, skipped) to be archived.
    const r = await start({}, 0.01);
    const from = new Date(Date.now() - 60_000);
    const versionId = await upload(r, "build-2");
    await r.idle(30_000);
    const event = objectCreated({ bucket: "demo-artifacts", key: "api/build-2.zip", versionId });
    await r.clients.events.send(
      new PutEventsCommand({
        Entries: [
          { Source: "aws.s3", DetailType: "Object Created", Detail: JSON.stringify(event.detail) },
        ],
      }),
    );
    await r.idle(30_000);
    // Act
    await r.clients.events.send(
      new StartReplayCommand({
        ReplayName: "promote-replay",
        EventSourceArn: r.provisioned.archive.arn,
        EventStartTime: from,
        EventEndTime: new Date(Date.now() + 1000),
        Destination: {
          Arn: r.provisioned.busArn,
          FilterArns: [r.provisioned.rules.PromoteApiArtifactUploaded?.arn ?? ""],
        },
      }),
    );
    await until("the replay", async () => {
      const replay = await r.clients.events.send(
        new DescribeReplayCommand({ ReplayName: "promote-replay" }),
      );
      return replay.State === "COMPLETED" ? true : undefined;
    });
    await until("the replayed event's skip", async () =>
      (await rows(r, "skip#")).length >= 2 ? true : undefined,
    );
    await r.idle(30_000);
    // Assess
    expect(await versions(r)).toEqual(["1", "2"]);
    expect(await alias(r)).toEqual({ version: "2", weights: {} });
    expect((await rows(r)).map((x) => x.status)).toEqual(["PROMOTED"]);
    const skips = await rows(r, "skip#");
    expect(skips).toHaveLength(2);
    for (const x of skips) expect(x.reason).toMatch(/^duplicate: /);
  });

  it("linear: shifts 40%, then 80%, then all of it", async () => {
    // Prepare
    const r = await start({ strategy: { type: "linear", percent: 40, intervalSeconds: 1 } });
    const seen: number[] = [];
    // Act
    const versionId = await upload(r, "build-2");
    await until("the promotion", async () => {
      const a = await alias(r);
      const w = a.weights["2"];
      if (w !== undefined && seen.at(-1) !== w) seen.push(w);
      return a.version === "2" ? true : undefined;
    });
    await r.idle(30_000);
    // Assess
    expect(seen).toEqual([0.4, 0.8]);
    expect(await runOf(r, versionId)).toMatchObject({
      status: "PROMOTED",
      strategy: "linear 40% every 1 s",
    });
  });

  it("waits for manual approval before the final shift, then promotes", async () => {
    // Prepare
    const r = await start({ approval: true }, 0.01);
    const versionId = await upload(r, "build-2");
    const waiting = await until("the approval request", async () => {
      const x = await runOf(r, versionId);
      return x?.status === "AWAITING_APPROVAL" ? x : undefined;
    });
    expect(await alias(r)).toEqual({ version: "1", weights: { "2": 0.1 } });
    // Act
    const answered = await PromoteAws.answerApproval(
      r.clients,
      r.provisioned.tables.Ledger?.name ?? "",
      PromoteAws.executionName(waiting.execution ?? ""),
      { approve: true, by: "test" },
    );
    await r.idle(30_000);
    // Assess
    expect(answered.version).toBe("2");
    expect(await runOf(r, versionId)).toMatchObject({ status: "PROMOTED" });
    expect(await alias(r)).toEqual({ version: "2", weights: {} });
  });

  it("a rejected approval rolls the canary back", async () => {
    // Prepare
    const r = await start({ approval: true }, 0.01);
    const versionId = await upload(r, "build-2");
    const waiting = await until("the approval request", async () => {
      const x = await runOf(r, versionId);
      return x?.status === "AWAITING_APPROVAL" ? x : undefined;
    });
    // Act
    await PromoteAws.answerApproval(
      r.clients,
      r.provisioned.tables.Ledger?.name ?? "",
      waiting.execution ?? "",
      {
        approve: false,
        by: "test",
        reason: "p99 latency looks off",
      },
    );
    await r.idle(30_000);
    // Assess
    const run = await runOf(r, versionId);
    expect(run?.status).toBe("ROLLED_BACK");
    expect(run?.reason).toMatch(/Switchyard.Rejected: rejected by test: p99 latency looks off/);
    expect(await alias(r)).toEqual({ version: "1", weights: {} });
  });

  it("a newer upload supersedes the running canary: the old one is stopped and undone", async () => {
    // Prepare
    const r = await start({ strategy: { type: "canary", percent: 10, bakeSeconds: 4 } });
    const first = await upload(r, "build-2");
    await until("the first canary", async () =>
      Object.keys((await alias(r)).weights).length > 0 ? true : undefined,
    );
    // Act
    const second = await upload(r, "build-3");
    await until(
      "the second promotion",
      async () => {
        const x = await runOf(r, second);
        return x && Promote.FINAL.includes(x.status) ? x : undefined;
      },
      30_000,
    );
    await r.idle(30_000);
    // Assess
    expect(await runOf(r, first)).toMatchObject({ status: "SUPERSEDED" });
    expect(await runOf(r, second)).toMatchObject({
      status: "PROMOTED",
      version: "3",
      previousVersion: "1",
    });
    expect(await alias(r)).toEqual({ version: "3", weights: {} });
  });

  it("switchyard promote rollback puts live back on the version before the last promotion", async () => {
    // Prepare
    const r = await start({}, 0.01);
    await upload(r, "build-2");
    await r.idle(30_000);
    expect((await alias(r)).version).toBe("2");
    // Act
    const result = await PromoteAws.rollback(
      r.clients,
      r.provisioned.tables.Ledger?.name ?? "",
      { promotions: r.config.promotions },
      { function: "api", by: "test" },
    );
    // Assess
    expect(result).toEqual({ function: "api", alias: "live", from: "2", to: "1" });
    expect(await alias(r)).toEqual({ version: "1", weights: {} });
    expect(await rows(r, "rollback#")).toEqual([
      expect.objectContaining({ status: "ROLLED_BACK", version: "1", previousVersion: "2" }),
    ]);
  });

  it.each([
    {
      // The rules only match configured prefixes; an execution started by hand can carry any upload.
      name: "a zip outside every configured prefix (an execution started by hand) is skipped",
      act: async (r: LocalRuntime) => {
        const event = objectCreated({
          bucket: "demo-artifacts",
          key: "web/build.zip",
          versionId: "v1",
        });
        await r.clients.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: r.provisioned.stateMachines.PromoteWorkflow?.arn,
            input: JSON.stringify(event),
          }),
        );
      },
      pk: Promote.keys.unrouted,
      status: "SKIPPED",
      reason: /under no configured prefix \(api\/\)/,
    },
    {
      name: "a missing alarm fails the promotion before any change",
      act: async (r: LocalRuntime) => {
        await r.clients.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ["api-errors"] }));
        await upload(r, "build-2");
      },
      pk: Promote.keys.alias("api", "live"),
      status: "FAILED",
      reason: /alarm api-errors does not exist/,
    },
  ])("$name", async ({ act, pk, status, reason }) => {
    // Prepare
    const r = await start({}, 0.01);
    // Act
    await act(r);
    await r.idle(30_000);
    // Assess
    const { Items = [] } = await r.clients.doc.send(
      new QueryCommand({
        TableName: r.provisioned.tables.Ledger?.name,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
      }),
    );
    const recorded = Items.filter((i) => i.flow === "promote");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ status });
    expect(String(recorded[0]?.reason)).toMatch(reason);
    expect(await alias(r)).toEqual({ version: "1", weights: {} });
    expect(await versions(r)).toEqual(["1"]);
  });
});
