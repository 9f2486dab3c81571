/**
 * promote: a release stream for one function — B builds uploaded one after another, each
 * upload event delivered D times (EventBridge delivers at least once; a replay delivers again),
 * plus R re-uploads of already-promoted code under new keys (a re-run CI job). Switchyard's
 * promote workflow is compared with the naive design (SAM's AutoPublishAlias / a Lambda per
 * event: update the code, publish, move the alias, for every event it receives), run by the
 * same harness, in the same process, on the same events, against the same emulator.
 *
 * Reported for both: versions published, alias updates, whether the alias ends on the newest
 * build with no extra weights, and wall time until everything settled. Bakes run at `timeScale`.
 */

import { createHash } from "node:crypto";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  GetAliasCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { type Clients, Promote as PromoteAws } from "@switchyard/aws";
import { type Config, Events, Promote } from "@switchyard/core";
import { resetEmulator } from "@switchyard/local/emulator";
import { seedPromotions } from "@switchyard/local/flows/promote";
import { ensureBucket } from "@switchyard/local/provision";
import { type LocalRuntime, loadProjectConfig, startLocal } from "@switchyard/local/runtime";
import { demoPackage } from "@switchyard/local/zip";

export interface PromoteBenchOptions {
  endpoint: string;
  clients: Clients;
  builds: number;
  deliveries: number;
  identical: number;
  timeScale: number;
  progress: (line: string) => void;
}

interface Outcome {
  ms: number;
  versionsPublished: number;
  aliasUpdates: number;
  endsOnNewest: boolean;
}

/** The upload sequence both designs receive: new builds, then re-uploads of the last build's code. */
const uploads = (o: PromoteBenchOptions) => [
  ...Array.from({ length: o.builds }, (_, i) => ({
    key: `api/build-${i + 2}.zip`,
    build: `build-${i + 2}`,
  })),
  ...Array.from({ length: o.identical }, (_, k) => ({
    key: `api/build-${o.builds + 1}-rerun-${k + 1}.zip`,
    build: `build-${o.builds + 1}`,
  })),
];

/** Where the alias ended: versions published since the seeded one, and whether it is entirely on the newest build. */
async function aliasState(c: Clients, api: Config.Promotion, o: PromoteBenchOptions) {
  const a = await c.lambda.send(
    new GetAliasCommand({ FunctionName: api.function, Name: api.alias }),
  );
  const versions = (await PromoteAws.listVersions(c, api.function)).filter(
    (v) => v.Version !== "$LATEST",
  );
  // CodeSha256 of the newest build's package, as Lambda computes it.
  const newest = createHash("sha256")
    .update(demoPackage(`build-${o.builds + 1}`))
    .digest("base64");
  const current = versions.find((v) => v.Version === a.FunctionVersion);
  return {
    published: versions.length - 1, // minus the seeded version 1
    endsOnNewest:
      Object.keys(a.RoutingConfig?.AdditionalVersionWeights ?? {}).length === 0 &&
      current?.CodeSha256 === newest,
  };
}

async function switchyard(o: PromoteBenchOptions, api: Config.Promotion): Promise<Outcome> {
  await resetEmulator(o.endpoint);
  const rt: LocalRuntime = await startLocal({
    endpoint: o.endpoint,
    stage: "local",
    stateFile: false,
    timeScale: o.timeScale,
  });
  try {
    const started = performance.now();
    const list = uploads(o);
    for (const [i, u] of list.entries()) {
      const { VersionId = "" } = await rt.clients.s3.send(
        new PutObjectCommand({ Bucket: api.bucket, Key: u.key, Body: demoPackage(u.build) }),
      );
      const key = {
        pk: Promote.keys.alias(api.function, api.alias),
        sk: Promote.keys.run(api.bucket, u.key, VersionId),
      };
      // The same upload's event, delivered again (as at-least-once delivery and replays do).
      for (let d = 1; d < o.deliveries; d++) {
        await rt.clients.events.send(
          new PutEventsCommand({
            Entries: [
              Events.Simulate.objectCreated({
                bucket: api.bucket,
                key: u.key,
                size: 1,
                versionId: VersionId,
              }),
            ],
          }),
        );
      }
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { Item } = await rt.clients.doc.send(
          new GetCommand({ TableName: rt.provisioned.tables.Ledger?.name, Key: key }),
        );
        if (Item && Promote.FINAL.includes(Item.status as Promote.Status)) break;
        if (Date.now() > deadline) throw new Error(`no verdict for ${u.key} within 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      o.progress(`[bench] promote (switchyard): ${i + 1}/${list.length} uploads settled`);
    }
    await rt.idle(60_000);
    const ms = performance.now() - started;
    const state = await aliasState(rt.clients, api, o);
    const aliasUpdates = [...rt.sfn.executions.values()].reduce(
      (n, e) =>
        n +
        e.history.filter(
          (h) =>
            h.type === "StateEntered" &&
            ["Shift", "PromoteAll", "Rollback", "RestoreSuperseded"].includes(h.state ?? ""),
        ).length,
      0,
    );
    return {
      ms: Math.round(ms),
      versionsPublished: state.published,
      aliasUpdates,
      endsOnNewest: state.endsOnNewest,
    };
  } finally {
    await rt.stop();
  }
}

/** The naive design: every event updates the code, publishes and moves the alias (10%, then all). */
async function naive(o: PromoteBenchOptions, api: Config.Promotion): Promise<Outcome> {
  await resetEmulator(o.endpoint);
  const c = o.clients;
  await ensureBucket(c, {
    name: api.bucket,
    flow: "promote",
    managed: true,
    versioned: true,
    eventBridge: false,
  });
  await seedPromotions(c, [api], "123456789012");
  const started = performance.now();
  let aliasUpdates = 0;
  const list = uploads(o);
  for (const [i, u] of list.entries()) {
    const { VersionId } = await c.s3.send(
      new PutObjectCommand({ Bucket: api.bucket, Key: u.key, Body: demoPackage(u.build) }),
    );
    for (let d = 0; d < o.deliveries; d++) {
      const object = await c.s3.send(
        new GetObjectCommand({ Bucket: api.bucket, Key: u.key, VersionId }),
      );
      const before = await c.lambda.send(
        new GetAliasCommand({ FunctionName: api.function, Name: api.alias }),
      );
      await c.lambda.send(
        new UpdateFunctionCodeCommand({
          FunctionName: api.function,
          ZipFile: await object.Body?.transformToByteArray(),
        }),
      );
      const { Version = "" } = await c.lambda.send(
        new PublishVersionCommand({ FunctionName: api.function }),
      );
      await c.lambda.send(
        new UpdateAliasCommand({
          FunctionName: api.function,
          Name: api.alias,
          FunctionVersion: before.FunctionVersion,
          RoutingConfig: { AdditionalVersionWeights: { [Version]: 0.1 } },
        }),
      );
      await c.lambda.send(
        new UpdateAliasCommand({
          FunctionName: api.function,
          Name: api.alias,
          FunctionVersion: Version,
          RoutingConfig: { AdditionalVersionWeights: {} },
        }),
      );
      aliasUpdates += 2;
    }
    o.progress(`[bench] promote (naive): ${i + 1}/${list.length} uploads handled`);
  }
  const ms = performance.now() - started;
  const state = await aliasState(c, api, o);
  return {
    ms: Math.round(ms),
    versionsPublished: state.published,
    aliasUpdates,
    endsOnNewest: state.endsOnNewest,
  };
}

export async function promoteBench(o: PromoteBenchOptions) {
  const config = await loadProjectConfig("local");
  const api = config.promotions[0];
  if (!api) throw new Error("bench/promote: the local stage has no promotion");
  o.progress(
    `[bench] promote: ${o.builds} builds, each event delivered ${o.deliveries}×, then ${o.identical} re-uploads of identical code`,
  );
  const s = await switchyard(o, api);
  const n = await naive(o, api);
  return {
    benchmark: "promote",
    builds: o.builds,
    deliveriesPerUpload: o.deliveries,
    identicalReuploads: o.identical,
    events: (o.builds + o.identical) * o.deliveries,
    timeScale: o.timeScale,
    switchyard: s,
    naive: n,
    versionsRatio: Number((n.versionsPublished / Math.max(1, s.versionsPublished)).toFixed(1)),
    aliasUpdatesRatio: Number((n.aliasUpdates / Math.max(1, s.aliasUpdates)).toFixed(1)),
    timeRatio: Number((s.ms / Math.max(1, n.ms)).toFixed(2)),
  };
}
