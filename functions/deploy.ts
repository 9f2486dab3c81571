import { Logger } from "@aws-lambda-powertools/logger";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { clients, Ecr, Ecs, Ledger } from "@switchyard/aws";
import { Deploy } from "@switchyard/core";
import type { Context } from "aws-lambda";
import { links } from "./links";

/**
 * Deploy on image push (see DESIGN "deploy").
 *
 * `handler`: the target of the ECR push rule. It plans which services the push redeploys,
 * admits each through the ledger's "newer than the last one" conditional write and starts one
 * workflow execution per service and digest. Every event ends done, skipped with a logged and
 * recorded reason, or — when it is malformed or AWS keeps failing — thrown, so Lambda's async
 * retries and then the rule's DLQ keep the original event with the error.
 *
 * `revision`: a workflow task that registers the new task-definition revision.
 */

const logger = new Logger({ serviceName: "switchyard-deploy" });

export interface DeployResult {
  /** Execution names started (or found already running) for this event. */
  started: string[];
  skipped: { service?: string; reason: string }[];
}

export async function handler(event: unknown, context?: Context): Promise<DeployResult> {
  if (context) logger.addContext(context);
  const push = Deploy.parseImageAction(event);
  const log = logger.createChild({
    persistentKeys: {
      eventId: push.id,
      repository: push.detail["repository-name"],
      replay: push["replay-name"],
    },
  });
  const { deploys } = Deploy.Settings.parse(links().DeployConfig);
  const table = links().Ledger.name;
  const aws = clients();
  const result: DeployResult = { started: [], skipped: [] };
  const skip = async (
    reason: string,
    target?: Deploy.Target,
    extra: Partial<Ledger.DeploySkip> = {},
  ) => {
    log.info("skipped", { reason, ecsService: target?.service });
    result.skipped.push({ service: target?.service, reason });
    await Ledger.recordDeploySkip(aws.doc, table, {
      eventId: push.id,
      reason,
      repository: push.detail["repository-name"],
      tag: push.detail["image-tag"],
      digest: push.detail["image-digest"],
      cluster: target?.cluster,
      service: target?.service,
      ...extra,
    });
  };

  const plan = Deploy.plan(deploys, push.detail);
  if (plan.action === "skip") {
    await skip(plan.reason);
    return result;
  }

  const image = await Ecr.describeImage(aws.ecr, plan.repository, plan.digest);
  if (!image) {
    await skip(
      `image ${plan.repository}@${plan.digest} is no longer in ECR (deleted after the push?)`,
    );
    return result;
  }
  const uri = Deploy.imageUri({
    registryId: image.registryId,
    region: push.region,
    repository: plan.repository,
    digest: plan.digest,
  });

  for (const target of plan.targets) {
    const name = Deploy.executionName(target.cluster, target.service, plan.digest);
    const admission = await Ledger.admitDeploy(aws.doc, table, {
      cluster: target.cluster,
      service: target.service,
      repository: plan.repository,
      tag: plan.tag,
      digest: plan.digest,
      pushedAt: image.pushedAt,
      execution: name,
    });
    if (!admission.admit) {
      await skip(admission.reason, target);
      continue;
    }
    // Deterministic input: a retried start with the same name is then the same execution.
    const input: Deploy.WorkflowInput = {
      ledger: {
        pk: Deploy.keys.service(target.cluster, target.service),
        sk: Deploy.keys.run(plan.repository, plan.digest),
      },
      repository: plan.repository,
      tag: plan.tag,
      digest: plan.digest,
      image: uri,
      pushedAt: image.pushedAt.toISOString(),
      cluster: target.cluster,
      service: target.service,
      containers: target.containers,
      roles: target.roles,
      pollSeconds: target.pollSeconds,
      maxPolls: Deploy.maxPolls(target.rolloutTimeoutSeconds, target.pollSeconds),
    };
    try {
      await aws.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: links().DeployWorkflow.arn,
          name,
          input: JSON.stringify(input),
        }),
      );
      log.info("deploy started", { ecsService: target.service, execution: name, image: uri });
    } catch (error) {
      if ((error as Error).name !== "ExecutionAlreadyExists") throw error;
      log.info("deploy already started", { ecsService: target.service, execution: name });
    }
    await Ledger.markDeployStarted(aws.doc, table, {
      cluster: target.cluster,
      service: target.service,
      pushedAt: image.pushedAt,
      digest: plan.digest,
    });
    result.started.push(name);
  }
  return result;
}

/** The workflow's RegisterRevision task: `{ taskDefinition, containers, image, roles }` → the new revision. */
export async function revision(payload: unknown): Promise<Ecs.RegisteredRevision> {
  const request = Deploy.RevisionPayload.parse(payload);
  const registered = await Ecs.registerRevision(clients().ecs, request);
  logger.info("revision registered", {
    family: registered.family,
    revision: registered.revision,
    image: request.image,
  });
  return registered;
}
