import {
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import { Deploy } from "@switchyard/core";

export interface RegisterRevisionInput extends Deploy.RevisionRequest {
  /** The service's current task definition (ARN or family:revision). */
  taskDefinition: string;
}

export interface RegisteredRevision {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  previousTaskDefinitionArn: string;
}

/**
 * Registers the new revision: reads the current task definition with its tags, renders the copy
 * with the pinned image (pure, in core) and registers it. Errors keep their names
 * (`ContainerNotFound`, `RoleNotAllowed`, ECS's `ClientException`…), which the workflow records.
 */
export async function registerRevision(
  ecs: ECSClient,
  input: RegisterRevisionInput,
): Promise<RegisteredRevision> {
  const current = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: input.taskDefinition, include: ["TAGS"] }),
  );
  if (!current.taskDefinition) {
    throw new Deploy.RevisionError(
      "InvalidTaskDefinition",
      `ECS returned no task definition for ${input.taskDefinition}`,
    );
  }
  const request = Deploy.render(
    current.taskDefinition as Deploy.TaskDefinition,
    current.tags,
    input,
  ) as unknown as RegisterTaskDefinitionCommandInput;
  const { taskDefinition } = await ecs.send(new RegisterTaskDefinitionCommand(request));
  if (!taskDefinition?.taskDefinitionArn || !taskDefinition.family || !taskDefinition.revision) {
    throw new Error(`RegisterTaskDefinition returned no ARN for family ${request.family}`);
  }
  return {
    taskDefinitionArn: taskDefinition.taskDefinitionArn,
    family: taskDefinition.family,
    revision: taskDefinition.revision,
    previousTaskDefinitionArn: current.taskDefinition.taskDefinitionArn ?? input.taskDefinition,
  };
}
