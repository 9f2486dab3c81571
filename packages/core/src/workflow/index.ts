import type { Topology } from "../topology/topology";

/** Amazon States Language, JSONPath flavour (what aws-local-stepfunctions executes). */
export type Asl = {
  Comment?: string;
  StartAt: string;
  TimeoutSeconds?: number;
  QueryLanguage?: "JSONPath";
  States: Record<string, Record<string, unknown>>;
};

/**
 * What a `workflows/<flow>.ts` builder receives: the topology and the physical
 * name/ARN of each resource it references, by topology id. The stacks resolve these
 * from Pulumi outputs; the local runtime from what it provisioned.
 */
export interface Context {
  topology: Topology;
  resources: Record<string, { name?: string; arn?: string; url?: string }>;
}

/** A workflow module's contract. */
export interface Module {
  definition(ctx: Context): Asl;
}

/** Looks up a resource's ARN for a workflow, failing clearly if the topology lacks it. */
export function arnOf(ctx: Context, id: string): string {
  const arn = ctx.resources[id]?.arn;
  if (!arn) throw new Error(`workflow needs resource '${id}', which has no ARN in this context`);
  return arn;
}

/** Looks up a resource's physical name for a workflow. */
export function nameOf(ctx: Context, id: string): string {
  const name = ctx.resources[id]?.name;
  if (!name) throw new Error(`workflow needs resource '${id}', which has no name in this context`);
  return name;
}
