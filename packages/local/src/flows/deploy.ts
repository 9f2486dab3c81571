import { createHash } from "node:crypto";
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type ECRClient,
  PutImageCommand,
} from "@aws-sdk/client-ecr";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import type { Clients } from "@switchyard/aws";
import type { Config } from "@switchyard/core";
import { awsSdkBinding } from "../bindings";
import type { ResourceBinding } from "../sfn";
import type { LocalFlowPlugin, PluginContext } from "./index";

/**
 * The deploy flow's local extras.
 *
 * - `seed`: every configured repository, cluster and service exists in the emulator, each
 *   service with an initial task-definition revision (the configured containers plus a sidecar
 *   Switchyard does not touch) and the deployment circuit breaker with rollback on.
 * - Rollout simulation: moto records UpdateService but never moves a deployment forward, so the
 *   workflow's `ecs:describeServices` is bound to a stand-in that keeps per-service deployments:
 *   a new revision shows IN_PROGRESS once, then COMPLETED — or FAILED and rolled back to the
 *   previous revision when the image's tag contains `broken`. It logs every step it simulates.
 */

const SIDECAR = "log-router";
const INITIAL_IMAGE = "public.ecr.aws/nginx/nginx:1.27";

const ignoreExists = (e: unknown) => {
  const name = (e as Error).name;
  if (!/AlreadyExists|InvalidParameter/.test(name)) throw e;
};

/** Creates what the config's deploys point at, if missing (idempotent on a running emulator). */
export async function seedDeploys(
  clients: Clients,
  deploys: readonly Config.Deploy[],
  region: string,
  account: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  for (const repository of new Set(deploys.map((d) => d.repository))) {
    await clients.ecr
      .send(new CreateRepositoryCommand({ repositoryName: repository }))
      .catch(ignoreExists);
  }
  const services = new Map<
    string,
    { cluster: string; service: string; containers: string[]; roles: string[] }
  >();
  for (const t of deploys.flatMap((d) => d.services)) {
    const key = `${t.cluster}/${t.service}`;
    const s = services.get(key) ?? {
      cluster: t.cluster,
      service: t.service,
      containers: [],
      roles: [],
    };
    s.containers.push(t.container);
    s.roles.push(...t.roles);
    services.set(key, s);
  }
  for (const s of services.values()) {
    await clients.ecs.send(new CreateClusterCommand({ clusterName: s.cluster }));
    const existing = await clients.ecs.send(
      new DescribeServicesCommand({ cluster: s.cluster, services: [s.service] }),
    );
    if (existing.services?.some((x) => x.status === "ACTIVE")) continue;
    const role = s.roles[0];
    const { taskDefinition } = await clients.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: s.service,
        ...(role
          ? {
              executionRoleArn: role.startsWith("arn:")
                ? role
                : `arn:aws:iam::${account}:role/${role}`,
            }
          : {}),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          ...s.containers.map((name) => ({
            name,
            image: INITIAL_IMAGE,
            essential: true,
            memory: 256,
            portMappings: [{ containerPort: 8080, protocol: "tcp" as const }],
            environment: [{ name: "PORT", value: "8080" }],
            logConfiguration: {
              logDriver: "awslogs" as const,
              options: {
                "awslogs-group": `/ecs/${s.service}`,
                "awslogs-region": region,
                "awslogs-stream-prefix": name,
              },
            },
          })),
          {
            name: SIDECAR,
            image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            essential: false,
            memory: 64,
          },
        ],
        tags: [{ key: "app", value: s.service }],
      }),
    );
    await clients.ecs.send(
      new CreateServiceCommand({
        cluster: s.cluster,
        serviceName: s.service,
        taskDefinition: taskDefinition?.taskDefinitionArn,
        desiredCount: 1,
        launchType: "FARGATE",
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          minimumHealthyPercent: 100,
          maximumPercent: 200,
        },
      }),
    );
    log(
      `[local] deploy: created ECS service ${s.cluster}/${s.service} on ${taskDefinition?.family}:${taskDefinition?.revision} (containers ${[...s.containers, SIDECAR].join(", ")})`,
    );
  }
}

/**
 * Pushes a tiny image to the emulator's ECR and returns its digest. The digest depends on
 * `content` (defaults to repository:tag), so distinct pushes get distinct digests.
 */
export async function pushImage(
  ecr: ECRClient,
  repository: string,
  tag: string,
  content = `${repository}:${tag}`,
): Promise<string> {
  const layer = `sha256:${createHash("sha256").update(content).digest("hex")}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: {
      mediaType: "application/vnd.docker.container.image.v1+json",
      size: content.length,
      digest: layer,
    },
    layers: [
      {
        mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
        size: content.length,
        digest: layer,
      },
    ],
  };
  const { image } = await ecr.send(
    new PutImageCommand({
      repositoryName: repository,
      imageManifest: JSON.stringify(manifest),
      imageTag: tag,
    }),
  );
  const digest = image?.imageId?.imageDigest;
  if (!digest) throw new Error(`ECR PutImage returned no digest for ${repository}:${tag}`);
  return digest;
}

type Json = Parameters<ResourceBinding>[0];
interface SimDeployment {
  Id: string;
  Status: "PRIMARY" | "ACTIVE";
  TaskDefinition: string;
  RolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  RolloutStateReason: string;
  DesiredCount: number;
  RunningCount: number;
  PendingCount: number;
  FailedTasks: number;
  CreatedAt: string;
  UpdatedAt: string;
}

/** The rollout simulation: per-service deployments that move forward as the workflow polls. */
export class RolloutSimulation {
  private readonly services = new Map<string, SimDeployment[]>();
  private seq = 0;

  constructor(
    private readonly clients: Clients,
    private readonly log: (line: string) => void,
  ) {}

  binding(): ResourceBinding {
    const describe = awsSdkBinding(this.clients);
    return async (input, ctx) => {
      const out = (await describe(input, ctx)) as { Services?: Record<string, Json>[] };
      for (const service of out.Services ?? []) {
        service.Deployments = (await this.advance(service)) as unknown as Json;
      }
      return out as Json;
    };
  }

  private deployment(
    taskDefinition: string,
    state: SimDeployment["RolloutState"],
    reason: string,
  ): SimDeployment {
    const now = new Date().toISOString();
    this.seq += 1;
    const id = `ecs-svc/${String(9_000_000_000 + this.seq)}`;
    return {
      Id: id,
      Status: "PRIMARY",
      TaskDefinition: taskDefinition,
      RolloutState: state,
      RolloutStateReason: reason.replace("{id}", id),
      DesiredCount: 1,
      RunningCount: state === "COMPLETED" ? 1 : 0,
      PendingCount: state === "COMPLETED" ? 0 : 1,
      FailedTasks: 0,
      CreatedAt: now,
      UpdatedAt: now,
    };
  }

  private async advance(service: Record<string, Json>): Promise<SimDeployment[]> {
    const arn = String(service.ServiceArn);
    const current = String(service.TaskDefinition);
    const label = `${String(service.ServiceName)} (${current.split("/").pop()})`;
    let list = this.services.get(arn);
    if (!list) {
      list = [this.deployment(current, "COMPLETED", "ECS deployment {id} completed.")];
      this.services.set(arn, list);
      return list;
    }
    const primary = list[0] as SimDeployment;
    if (primary.TaskDefinition !== current) {
      // UpdateService happened: the previous deployments keep running while the new one starts.
      for (const d of list) d.Status = "ACTIVE";
      list.unshift(this.deployment(current, "IN_PROGRESS", "ECS deployment {id} in progress."));
      this.log(`[local] simulating ECS: deployment of ${label} started, IN_PROGRESS`);
      return list;
    }
    if (primary.RolloutState !== "IN_PROGRESS") return list;

    const previous = list.find((d) => d !== primary && d.RolloutState === "COMPLETED");
    const broken = await this.isBroken(primary.TaskDefinition);
    primary.UpdatedAt = new Date().toISOString();
    if (broken && previous) {
      primary.Status = "ACTIVE";
      primary.RolloutState = "FAILED";
      primary.FailedTasks = 3;
      primary.RolloutStateReason = `ECS deployment circuit breaker: tasks failed to start. Rolling back to ${previous.TaskDefinition.split("/").pop()}.`;
      const cluster = String(service.ClusterArn).split("/").pop();
      await this.clients.ecs.send(
        new UpdateServiceCommand({
          cluster,
          service: arn,
          taskDefinition: previous.TaskDefinition,
        }),
      );
      const rollback = this.deployment(
        previous.TaskDefinition,
        "COMPLETED",
        `ECS deployment circuit breaker: rollback {id} to ${previous.TaskDefinition.split("/").pop()} completed.`,
      );
      this.services.set(arn, [rollback, primary]);
      this.log(
        `[local] simulating ECS: tasks of ${label} fail to start (image tag contains 'broken'); the circuit breaker rolls back to ${previous.TaskDefinition.split("/").pop()}`,
      );
      return [rollback, primary];
    }
    primary.RolloutState = "COMPLETED";
    primary.RunningCount = 1;
    primary.PendingCount = 0;
    primary.RolloutStateReason = `ECS deployment ${primary.Id} completed.`;
    this.services.set(arn, [primary]);
    this.log(`[local] simulating ECS: deployment of ${label} COMPLETED`);
    return [primary];
  }

  /** A revision is "broken" when one of its images is tagged (or named) with `broken`. */
  private async isBroken(taskDefinition: string): Promise<boolean> {
    const { taskDefinition: td } = await this.clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition }),
    );
    for (const c of td?.containerDefinitions ?? []) {
      const image = c.image ?? "";
      if (image.includes("broken")) return true;
      const pinned = /^[^/]+\.dkr\.ecr\.[^/]+\/(.+)@(sha256:[a-f0-9]{64})$/.exec(image);
      if (!pinned) continue;
      const { imageDetails } = await this.clients.ecr
        .send(
          new DescribeImagesCommand({
            repositoryName: pinned[1],
            imageIds: [{ imageDigest: pinned[2] }],
          }),
        )
        .catch(() => ({ imageDetails: [] }));
      if (imageDetails?.some((i) => i.imageTags?.some((t) => t.includes("broken")))) return true;
    }
    return false;
  }
}

export const deployPlugin: LocalFlowPlugin = {
  flow: "deploy",
  async seed(ctx: PluginContext) {
    await seedDeploys(
      ctx.clients,
      ctx.config.deploys,
      ctx.topology.region,
      ctx.provisioned.account,
      ctx.log,
    );
    return undefined;
  },
  bindings(ctx: PluginContext) {
    const simulation = new RolloutSimulation(ctx.clients, ctx.log);
    return { "arn:aws:states:::aws-sdk:ecs:describeServices": simulation.binding() };
  },
};
