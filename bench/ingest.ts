/**
 * ingest (burst): N files dropped as fast as the harness can into 3 datasets (2 in one bucket,
 * 1 in another), through S3's own EventBridge events, the dataset rules, SQS, the ingest handler's
 * batching, the workflow, moto's Glue and the Snowflake stand-in.
 *
 * Reported for Switchyard: Glue runs, executions, state transitions, Snowflake statements, files
 * accounted for (ledger claims + skips) and wall time. The naive design (one execution per file,
 * as in the seeds) is computed by the same harness from the same files: its executions and Glue
 * runs by count, its state transitions and Snowflake statements from one real execution of the
 * same workflow over a one-file batch, scaled by the number of files.
 */

import { GetJobRunsCommand } from "@aws-sdk/client-glue";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type Clients, pool } from "@switchyard/aws";
import { type Config, Ingest } from "@switchyard/core";
import { resetEmulator } from "@switchyard/local/emulator";
import { type LocalRuntime, startLocal } from "@switchyard/local/runtime";
import type { SnowflakeStandIn } from "@switchyard/local/snowflake";
import switchyardConfig from "../switchyard.config";

export interface IngestBenchOptions {
  endpoint: string;
  clients: Clients;
  files: number;
  progress: (line: string) => void;
}

/** The project's `orders` dataset, plus two more of the same shape. */
const orders = (switchyardConfig as Config.ConfigInput).datasets?.find((d) => d.name === "orders");
if (!orders) throw new Error("bench/ingest: switchyard.config.ts has no 'orders' dataset");
const DATASETS: Config.DatasetInput[] = [
  orders,
  {
    name: "returns",
    bucket: "demo-raw",
    prefix: "returns/",
    suffix: ".csv",
    glueJobs: ["returns-clean", "returns-curate"],
    snowflake: { table: "ANALYTICS.RAW.RETURNS_EXT" },
  },
  {
    name: "clicks",
    bucket: "demo-events",
    prefix: "clicks/",
    suffix: ".json",
    glueJobs: ["clicks-load"],
    snowflake: { table: "ANALYTICS.RAW.CLICKS_EXT" },
  },
];

async function countLedger(rt: LocalRuntime, dataset: string, prefix: string) {
  let count = 0;
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await rt.clients.doc.send(
      new QueryCommand({
        TableName: rt.provisioned.tables.Ledger?.name,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": Ingest.keys.dataset(dataset), ":p": prefix },
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return { count, items };
}

async function glueRuns(c: Clients, jobs: string[]) {
  let runs = 0;
  for (const job of jobs) {
    let token: string | undefined;
    do {
      const page = await c.glue.send(new GetJobRunsCommand({ JobName: job, NextToken: token }));
      runs += page.JobRuns?.length ?? 0;
      token = page.NextToken;
    } while (token);
  }
  return runs;
}

const transitions = (rt: LocalRuntime) =>
  [...rt.sfn.executions.values()].reduce(
    (n, e) => n + e.history.filter((h) => h.type === "StateEntered").length,
    0,
  );

export async function ingestBench(o: IngestBenchOptions) {
  // The project's config (and its local stage: Snowflake stand-in, rollout polling) with 3 datasets.
  const input: Config.ConfigInput = {
    ...(switchyardConfig as Config.ConfigInput),
    datasets: DATASETS,
  };
  const jobs = DATASETS.flatMap((d) => d.glueJobs);

  // The naive design's unit cost: one execution over a one-file batch, measured for real.
  await resetEmulator(o.endpoint);
  let rt = await startLocal({
    endpoint: o.endpoint,
    stage: "local",
    config: input,
    stateFile: false,
    timeScale: 0.01,
  });
  let perFile: { transitions: number; statements: number };
  try {
    await rt.clients.s3.send(
      new PutObjectCommand({ Bucket: "demo-raw", Key: "orders/2026/11/01/probe.csv", Body: "x" }),
    );
    await rt.idle(120_000);
    perFile = {
      transitions: transitions(rt),
      statements: (rt.services.snowflake as SnowflakeStandIn).statements.filter((s) =>
        /REFRESH/.test(s),
      ).length,
    };
  } finally {
    await rt.stop();
  }

  await resetEmulator(o.endpoint);
  // Batching as configured (a 30 s window, up to 1000 files), as Lambda's event source mapping
  // does; the local runtime otherwise caps the window at 1 s.
  rt = await startLocal({
    endpoint: o.endpoint,
    stage: "local",
    config: input,
    stateFile: false,
    timeScale: 0.01,
    maxBatchWindowMs: Number.POSITIVE_INFINITY,
  });
  try {
    const files = Array.from({ length: o.files }, (_, i) => {
      const d = DATASETS[i % DATASETS.length] as (typeof DATASETS)[number];
      const day = String(1 + (i % 10)).padStart(2, "0");
      return {
        i,
        bucket: d.bucket,
        key: `${d.prefix}2026/11/${day}/part-${String(i).padStart(6, "0")}${d.suffix}`,
        dataset: d,
      };
    });
    const started = performance.now();
    await pool(files, 16, async ({ i, ...f }) => {
      await rt.clients.s3.send(
        new PutObjectCommand({ Bucket: f.bucket, Key: f.key, Body: `n,${i}\n` }),
      );
      if ((i + 1) % 1000 === 0)
        o.progress(`[bench] ingest: dropped ${i + 1}/${files.length} files`);
    });
    const droppedMs = performance.now() - started;
    o.progress(
      `[bench] ingest: all ${files.length} files dropped in ${Math.round(droppedMs)} ms; waiting for the batches`,
    );
    // Settle: every file claimed and every execution finished, with progress every few seconds.
    const deadline = Date.now() + 3_600_000; // a 10,000-file burst takes about 20 min against moto on 2 cores
    let accounted = 0;
    for (;;) {
      const busy = await rt.idle(5_000).then(
        () => false,
        () => true,
      );
      accounted = 0;
      for (const d of DATASETS) accounted += (await countLedger(rt, d.name, "file#")).count;
      const all = [...rt.sfn.executions.values()];
      const running = all.filter((e) => e.status === "RUNNING").length;
      o.progress(
        `[bench] ingest: ${accounted}/${files.length} files claimed; executions ${all.length - running} finished, ${running} running`,
      );
      if ((!busy && running === 0 && accounted >= files.length) || Date.now() > deadline) break;
    }
    const ms = performance.now() - started;
    let ingested = 0;
    const statuses: Record<string, number> = {};
    for (const d of DATASETS) {
      for (const b of (await countLedger(rt, d.name, "batch#")).items) {
        statuses[String(b.status)] = (statuses[String(b.status)] ?? 0) + 1;
        if (b.status === "INGESTED") ingested += Number(b.files ?? 0);
      }
    }
    const executions = rt.sfn.executions.size;
    const switchyard = {
      files: files.length,
      filesClaimed: accounted,
      filesIngested: ingested,
      batches: statuses,
      executions,
      glueRuns: await glueRuns(rt.clients, jobs),
      stateTransitions: transitions(rt),
      snowflakeStatements: (rt.services.snowflake as SnowflakeStandIn).statements.filter((s) =>
        /REFRESH/.test(s),
      ).length,
      wallMs: Math.round(ms),
      dropMs: Math.round(droppedMs),
    };
    const naive = {
      executions: files.length,
      glueRuns: files.reduce((n, f) => n + f.dataset.glueJobs.length, 0),
      stateTransitions: perFile.transitions * files.length,
      snowflakeStatements: perFile.statements * files.length,
    };
    return {
      benchmark: "ingest",
      datasets: DATASETS.length,
      switchyard,
      naive,
      glueRunsRatio: Number((naive.glueRuns / Math.max(1, switchyard.glueRuns)).toFixed(1)),
      executionsRatio: Number((naive.executions / Math.max(1, executions)).toFixed(1)),
      allAccountedFor: accounted === files.length && ingested === files.length,
    };
  } finally {
    await rt.stop();
  }
}
