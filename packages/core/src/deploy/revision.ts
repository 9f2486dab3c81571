import { roleName } from "./plan";

/**
 * The new task-definition revision: a copy of the current one in which the named containers
 * run the pushed image, pinned by digest. Everything else is kept as it is — environment,
 * secrets, CPU/memory, roles, log configuration, volumes, other containers, tags and any field
 * ECS adds later — because only the fields DescribeTaskDefinition returns but
 * RegisterTaskDefinition refuses are dropped (a deny-list on purpose).
 */

/** What DescribeTaskDefinition returns (SDK v3 shape); unknown fields are carried over. */
export interface TaskDefinition {
  family?: string;
  taskDefinitionArn?: string;
  revision?: number;
  taskRoleArn?: string;
  executionRoleArn?: string;
  containerDefinitions?: ContainerDefinition[];
  [field: string]: unknown;
}

export interface ContainerDefinition {
  name?: string;
  image?: string;
  [field: string]: unknown;
}

/** Read-only fields of a described task definition that RegisterTaskDefinition does not accept. */
export const READ_ONLY_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
  "deleteRequestedAt",
] as const;

/** A deploy that cannot proceed; `name` is the error the workflow records. */
export class RevisionError extends Error {
  constructor(
    override readonly name: "ContainerNotFound" | "RoleNotAllowed" | "InvalidTaskDefinition",
    message: string,
  ) {
    super(message);
  }
}

export interface RevisionRequest {
  containers: readonly string[];
  /** `…/repo@sha256:…` */
  image: string;
  /** Role names the config allows this service to pass (`deploys[].services[].roles`). */
  roles: readonly string[];
  /** Where the roles are configured, for the error message. */
  rolesField?: string;
}

/** RegisterTaskDefinition's input for the new revision. Throws `RevisionError` with a fix. */
export function render(
  current: TaskDefinition,
  tags: readonly { key?: string; value?: string }[] | undefined,
  request: RevisionRequest,
): Record<string, unknown> {
  const label = current.taskDefinitionArn ?? current.family ?? "the task definition";
  if (!current.family || !Array.isArray(current.containerDefinitions)) {
    throw new RevisionError(
      "InvalidTaskDefinition",
      `${label} has no family or container definitions`,
    );
  }
  const names = current.containerDefinitions.map((c) => c.name);
  const missing = request.containers.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new RevisionError(
      "ContainerNotFound",
      `${label} has no container named ${missing.map((m) => `'${m}'`).join(", ")} (it has ${names.map((n) => `'${n}'`).join(", ")}). Fix: set deploys[].services[].container to one of those`,
    );
  }
  const allowed = new Set(request.roles.map(roleName));
  for (const field of ["taskRoleArn", "executionRoleArn"] as const) {
    const arn = current[field];
    if (arn && !allowed.has(roleName(arn))) {
      throw new RevisionError(
        "RoleNotAllowed",
        `${label} uses ${field} ${arn}, which Switchyard may not pass. Fix: add '${roleName(arn)}' to ${request.rolesField ?? "deploys[].services[].roles"} and deploy the stage, so its role gets iam:PassRole on exactly that role`,
      );
    }
  }

  const input: Record<string, unknown> = { ...current };
  for (const field of READ_ONLY_FIELDS) delete input[field];
  input.containerDefinitions = current.containerDefinitions.map((c) =>
    c.name !== undefined && request.containers.includes(c.name)
      ? { ...c, image: request.image }
      : c,
  );
  if (tags && tags.length > 0) input.tags = tags.map((t) => ({ key: t.key, value: t.value }));
  return input;
}
