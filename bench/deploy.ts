/**
 * deploy: a burst of ECR push events for one service — 10 images, each event delivered 3 times,
 * in a shuffled (out-of-order) arrival order — through the emulator's EventBridge, rule, queue
 * and dispatcher. Switchyard's deploy handler and workflow are compared with the naive design
 * the seeds describe (a Lambda that registers a revision and updates the service for every
 * event it receives), run by the same harness, in the same process, on the same events.
 *
 * Reported for both: revisions registered, service updates, whether the service ends on the
 * newest image, and wall time until everything settled. The ECS rollout is simulated by the
 * local runtime (moto does not run tasks), and Wait states run at `timeScale`.
 */

import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { Clients } from "@switchyard/aws";
import { Deploy, Events } from "@switchyard/core";
import { resetEmulator } from "@switchyard/local/emulator";
import { pushImage } from "@switchyard/local/flows/deploy";
import { type LocalRuntime, startLocal } from "@switchyard/local/runtime";

export interface DeployBenchOptions {
  endpoint: string;
  clients: Clients;
  images: number;
  deliveries: number;
  timeScale: number;
  progress: (line: string) => void;
}

interface Outcome {
  ms: number;
  events: number;
  revisions: number;
  serviceUpdates: number;
  finalDigest: string | undefined;
  endsOnNewest: boolean;
}

/** A deterministic shuffle (mulberry32), so every run sees the same arrival order. */
function shuffled<T>(items: T[], seed: number): T[] {
  let s = seed;
  const random = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function finalDigest(c: Clients): Promise<string | undefined> {
  const { services } = await c.ecs.send(
    new DescribeServicesCommand({ cluster: "demo", services: ["web"] }),
  );
  const { taskDefinition } = await c.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: services?.[0]?.taskDefinition }),
  );
  const image = taskDefinition?.containerDefinitions?.find((x) => x.name === "app")?.image ?? "";
  return /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
}

async function revisionCount(c: Clients): Promise<number> {
  const { taskDefinitionArns = [] } = await c.ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: "web" }),
  );
  return taskDefinitionArns.length - 1; // minus the initial revision the seed registers
}

/** Runs one design: a fresh emulator account, the same images and the same arrival order. */
async function runDesign(o: DeployBenchOptions, design: "switchyard" | "naive"): Promise<Outcome> {
  await resetEmulator(o.endpoint);
  let naiveUpdates = 0;
  const naive = async (event: unknown) => {
    // The seed's design: every event registers a revision with its image and updates the service.
    const e = Deploy.parseImageAction(event);
    const digest = e.detail["image-digest"] ?? "";
    const { services } = await o.clients.ecs.send(
      new DescribeServicesCommand({ cluster: "demo", services: ["web"] }),
    );
    const { taskDefinition } = await o.clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: services?.[0]?.taskDefinition }),
    );
    const input = Deploy.render(taskDefinition as Deploy.TaskDefinition, undefined, {
      containers: ["app"],
      image: `${e.account}.dkr.ecr.${e.region}.amazonaws.com/web@${digest}`,
      roles: ["demo-web-execution"],
    }) as unknown as RegisterTaskDefinitionCommandInput;
    const { taskDefinition: next } = await o.clients.ecs.send(
      new RegisterTaskDefinitionCommand(input),
    );
    await o.clients.ecs.send(
      new UpdateServiceCommand({
        cluster: "demo",
        service: "web",
        taskDefinition: next?.taskDefinitionArn,
      }),
    );
    naiveUpdates += 1;
  };
  const rt: LocalRuntime = await startLocal({
    endpoint: o.endpoint,
    stateFile: false,
    timeScale: o.timeScale,
    ...(design === "naive" ? { handlers: { DeployHandler: naive } } : {}),
  });
  try {
    // Distinct push times (ECR records them to the second), oldest first.
    const digests: string[] = [];
    for (let i = 0; i < o.images; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1050));
      digests.push(await pushImage(rt.clients.ecr, "web", `release-${i + 1}`, `bench-${i}`));
    }
    const arrivals = shuffled(
      digests.flatMap((d, i) =>
        Array.from({ length: o.deliveries }, () => ({ d, tag: `release-${i + 1}` })),
      ),
      42,
    );
    o.progress(
      `[bench] deploy/${design}: ${arrivals.length} events for ${o.images} images, shuffled`,
    );
    const started = performance.now();
    for (const [i, a] of arrivals.entries()) {
      await rt.clients.events.send(
        new PutEventsCommand({
          Entries: [
            Events.Simulate.ecrPush({
              repository: "web",
              tag: a.tag,
              digest: a.d,
              region: "us-east-1",
              account: rt.provisioned.account,
            }),
          ],
        }),
      );
      if ((i + 1) % 10 === 0)
        o.progress(`[bench] deploy/${design}: sent ${i + 1}/${arrivals.length}`);
    }
    await rt.idle(300_000);
    const ms = performance.now() - started;
    const executions = [...rt.sfn.executions.values()];
    const final = await finalDigest(rt.clients);
    return {
      ms,
      events: arrivals.length,
      revisions: await revisionCount(rt.clients),
      serviceUpdates:
        design === "naive"
          ? naiveUpdates
          : executions.filter((x) =>
              x.history.some((h) => h.state === "UpdateService" && h.type === "StateExited"),
            ).length,
      finalDigest: final,
      endsOnNewest: final === digests.at(-1),
    };
  } finally {
    await rt.stop();
  }
}

export async function deployBench(o: DeployBenchOptions) {
  const naive = await runDesign(o, "naive");
  const switchyard = await runDesign(o, "switchyard");
  return {
    benchmark: "deploy",
    images: o.images,
    deliveriesPerImage: o.deliveries,
    events: switchyard.events,
    timeScale: o.timeScale,
    switchyard: { ...switchyard, ms: Math.round(switchyard.ms) },
    naive: { ...naive, ms: Math.round(naive.ms) },
    revisionsRatio: Number((switchyard.revisions / Math.max(1, naive.revisions)).toFixed(2)),
    timeRatio: Number((switchyard.ms / naive.ms).toFixed(2)),
  };
}
