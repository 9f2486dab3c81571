/**
 * `npm run bench`: benchmarks, each compared with a baseline measured in the same process
 * (a ratio), because wall-clock figures on shared machines are noisy. Prints figures with
 * progress and writes them to bench/results/<name>.json.
 *
 * backbone: N events through the emulator's EventBridge → rule → SQS → dispatcher → handler,
 * against the baseline of the same N events through the same rule pattern and archive into
 * a queue read by a bare receive/delete loop. Both pay the emulator's routing cost (moto spends ~0.1 s
 * per event and target in PutEvents), so the ratio is what the local runtime adds.
 *
 * deploy: see bench/deploy.ts (Switchyard's deploy against the naive one-deploy-per-event design).
 *
 * ingest: see bench/ingest.ts (a burst of files, against the naive one-execution-per-file design).
 *
 * promote: see bench/promote.ts (a release stream with duplicate deliveries and re-uploads of
 * identical code, against the naive publish-and-shift-per-event design).
 *
 * `--only backbone|deploy|ingest|promote` runs one of them; `--files N` sizes the ingest burst (10000).
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateArchiveCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { clients } from "@switchyard/aws";
import { Events, Topology } from "@switchyard/core";
import { ensureEmulator, freePort, resetEmulator } from "@switchyard/local/emulator";
import { useLocalAws } from "@switchyard/local/env";
import { loadProjectConfig, REPO_ROOT, startLocal } from "@switchyard/local/runtime";
import { deployBench } from "./deploy";
import { ingestBench } from "./ingest";
import { promoteBench } from "./promote";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    events: { type: "string", default: "100" },
    only: { type: "string" },
    files: { type: "string", default: "10000" },
  },
});
const N = Number(values.events);
const progress = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

const emulator = await ensureEmulator({
  endpoint: `http://127.0.0.1:${await freePort()}`,
  log: progress,
});
useLocalAws({ endpoint: emulator.endpoint });
const c = clients({ endpoint: emulator.endpoint, region: "us-east-1" });

const entriesFrom = (i: number) =>
  Array.from({ length: Math.min(10, N - i) }, (_, j) =>
    Events.Simulate.ecrPush({
      repository: "web",
      tag: `release-${i + j}`,
      region: "us-east-1",
      account: "123456789012",
    }),
  );

async function baseline(): Promise<number> {
  const topology = Topology.build(await loadProjectConfig("local"));
  const rule = topology.rules.find((r) => r.id === "DeployImagePushed");
  if (!rule) throw new Error("the project config has no deploy rule to benchmark");
  const { QueueUrl = "" } = await c.sqs.send(
    new CreateQueueCommand({ QueueName: "bench-baseline" }),
  );
  const { Attributes } = await c.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await c.events.send(
    new PutRuleCommand({ Name: "bench-baseline", EventPattern: JSON.stringify(rule.pattern) }),
  );
  await c.events.send(
    new PutTargetsCommand({
      Rule: "bench-baseline",
      Targets: [{ Id: "q", Arn: Attributes?.QueueArn }],
    }),
  );
  // The runtime archives every routed event; so does the baseline, so both pay for it.
  await c.events.send(
    new CreateArchiveCommand({
      ArchiveName: "bench-baseline",
      EventSourceArn: "arn:aws:events:us-east-1:123456789012:event-bus/default",
      EventPattern: JSON.stringify(topology.archive.pattern),
    }),
  );
  let received = 0;
  const consumer = (async () => {
    while (received < N) {
      const { Messages = [] } = await c.sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      received += Messages.length;
      await c.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle ?? "",
          })),
        }),
      );
    }
  })();
  const started = performance.now();
  for (let i = 0; i < N; i += 10) {
    await c.events.send(new PutEventsCommand({ Entries: entriesFrom(i) }));
    if ((i / 10) % 5 === 0)
      progress(`[bench] baseline: sent ${Math.min(i + 10, N)}/${N}, received ${received}`);
  }
  await consumer;
  return performance.now() - started;
}

async function backbone(): Promise<{ ms: number; startupMs: number }> {
  let handled = 0;
  const t0 = performance.now();
  const rt = await startLocal({
    endpoint: emulator.endpoint,
    stateFile: false,
    handlers: {
      DeployHandler: async () => {
        handled++;
      },
    },
  });
  const startupMs = performance.now() - t0;
  const started = performance.now();
  try {
    for (let i = 0; i < N; i += 10) {
      await c.events.send(new PutEventsCommand({ Entries: entriesFrom(i) }));
      if ((i / 10) % 5 === 0)
        progress(`[bench] backbone: sent ${Math.min(i + 10, N)}/${N}, handled ${handled}`);
    }
    const deadline = Date.now() + 120_000;
    while (handled < N) {
      if (Date.now() > deadline)
        throw new Error(`only ${handled}/${N} events were handled within 120 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { ms: performance.now() - started, startupMs };
  } finally {
    await rt.stop();
  }
}

const only = values.only;
if (only !== undefined && !["backbone", "deploy", "ingest", "promote"].includes(only)) {
  process.stderr.write(
    `bench: unknown --only '${only}'. Use backbone, deploy, ingest or promote.\n`,
  );
  process.exit(2);
}
const dir = join(REPO_ROOT, "bench", "results");
await mkdir(dir, { recursive: true });
const report = async (name: string, result: Record<string, unknown>, line: string) => {
  const full = { ...result, at: new Date().toISOString(), node: process.version };
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(full)}\n`);
  else process.stdout.write(`${line}\nwritten to bench/results/${name}.json\n`);
};

try {
  if (only === undefined || only === "backbone") {
    progress(`[bench] baseline: ${N} events through EventBridge → rule → SQS → bare consumer`);
    await resetEmulator(emulator.endpoint);
    const base = await baseline();
    progress(
      `[bench] backbone: ${N} events through EventBridge → rule → SQS → dispatcher → handler`,
    );
    await resetEmulator(emulator.endpoint);
    const bb = await backbone();
    const result = {
      benchmark: "backbone",
      events: N,
      baselineMs: Math.round(base),
      backboneMs: Math.round(bb.ms),
      ratio: Number((bb.ms / base).toFixed(2)),
      eventsPerSecond: Math.round((N / bb.ms) * 1000),
      baselineMessagesPerSecond: Math.round((N / base) * 1000),
      warmStartupMs: Math.round(bb.startupMs),
    };
    await report(
      "backbone",
      result,
      `backbone: ${N} events in ${result.backboneMs} ms (${result.eventsPerSecond}/s); ` +
        `baseline (same routing, bare consumer) ${result.baselineMs} ms (${result.baselineMessagesPerSecond}/s); ` +
        `ratio ${result.ratio}×; runtime ready in ${result.warmStartupMs} ms`,
    );
  }
  if (only === undefined || only === "deploy") {
    const d = await deployBench({
      endpoint: emulator.endpoint,
      clients: c,
      images: 10,
      deliveries: 3,
      timeScale: 0.01,
      progress,
    });
    const row = (name: string, o: typeof d.switchyard) =>
      `  ${name.padEnd(10)} ${String(o.revisions).padStart(3)} revisions, ${String(o.serviceUpdates).padStart(3)} service updates, ends on newest image: ${o.endsOnNewest ? "yes" : "NO"}, ${o.ms} ms`;
    await report(
      "deploy",
      d,
      `deploy: ${d.events} push events (${d.images} images × ${d.deliveriesPerImage} deliveries, shuffled)\n` +
        `${row("switchyard", d.switchyard)}\n${row("naive", d.naive)}\n` +
        `  revisions ratio ${d.revisionsRatio}×, time ratio ${d.timeRatio}× (rollout waits at time scale ${d.timeScale})`,
    );
  }
  if (only === undefined || only === "ingest") {
    const d = await ingestBench({
      endpoint: emulator.endpoint,
      clients: c,
      files: Number(values.files),
      progress,
    });
    const s = d.switchyard;
    await report(
      "ingest",
      d,
      `ingest: ${s.files} files across ${d.datasets} datasets in ${s.wallMs} ms (dropped in ${s.dropMs} ms)\n` +
        `  switchyard ${s.glueRuns} Glue runs, ${s.executions} executions, ${s.stateTransitions} state transitions, ${s.snowflakeStatements} Snowflake statements; ` +
        `${s.filesIngested}/${s.files} files ingested, ${s.filesClaimed} claimed; batches ${JSON.stringify(s.batches)}\n` +
        `  naive      ${d.naive.glueRuns} Glue runs, ${d.naive.executions} executions, ${d.naive.stateTransitions} state transitions, ${d.naive.snowflakeStatements} Snowflake statements\n` +
        `  ${d.glueRunsRatio}× fewer Glue runs, ${d.executionsRatio}× fewer executions; every file accounted for: ${d.allAccountedFor ? "yes" : "NO"}`,
    );
  }
  if (only === undefined || only === "promote") {
    const d = await promoteBench({
      endpoint: emulator.endpoint,
      clients: c,
      builds: 5,
      deliveries: 2,
      identical: 2,
      timeScale: 0.01,
      progress,
    });
    const row = (name: string, o: typeof d.switchyard) =>
      `  ${name.padEnd(10)} ${String(o.versionsPublished).padStart(3)} versions published, ${String(o.aliasUpdates).padStart(3)} alias updates, ends on the newest build: ${o.endsOnNewest ? "yes" : "NO"}, ${o.ms} ms`;
    await report(
      "promote",
      d,
      `promote: ${d.events} upload events (${d.builds} builds + ${d.identicalReuploads} identical re-uploads, × ${d.deliveriesPerUpload} deliveries)\n` +
        `${row("switchyard", d.switchyard)}\n${row("naive", d.naive)}\n` +
        `  versions ratio ${d.versionsRatio}×, alias updates ratio ${d.aliasUpdatesRatio}×, time ratio ${d.timeRatio}× (bakes at time scale ${d.timeScale})`,
    );
  }
} finally {
  await emulator.stop();
}
