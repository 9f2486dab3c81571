import type { Topology } from "@switchyard/core";

/**
 * Rule targets that flow stacks create (Lambda functions, state machines). A flow stack calls
 * `registerTarget(<topology target id>, { arn })` when it creates the resource, and
 * sst.config.ts imports the flow stack before `./routing`, which wires every rule to its target.
 *
 * This module creates no resources, so flow stacks can import it without pulling in routing.
 * Queue targets need no registration: routing takes them from `./dlq`.
 */

/**
 * Flows whose target stacks (their Lambda functions / state machines) do not exist yet. Their
 * rules are skipped with a warning instead of failing the deploy, and their events are still
 * archived. When a flow's stack lands (`stacks/<flow>.ts` registering its targets and imported
 * before `./routing` in sst.config.ts), remove the flow from this list in the same change.
 * Ingest is not listed: its rules target SQS queues, which `./dlq` creates.
 * Lives here (not in ./routing) so it can be read without creating any resource.
 */
export const PENDING_FLOWS: readonly Topology.Flow[] = [];

export interface RegisteredTarget {
  /** ARN of the Lambda function or state machine. */
  arn: $util.Input<string>;
  /**
   * State-machine targets only: the role EventBridge assumes to start executions. Without it,
   * routing creates one limited to `states:StartExecution` on `arn`, trusted only for that rule.
   */
  roleArn?: $util.Input<string>;
}

const registry = new Map<string, RegisteredTarget>();

/** Registers the resource behind a topology target id, e.g. `registerTarget("DeployHandler", { arn: fn.arn })`. */
export function registerTarget(id: string, target: RegisteredTarget): void {
  if (registry.has(id)) throw new Error(`stacks/targets: target '${id}' is registered twice`);
  registry.set(id, target);
}

/** The registered target, if a flow stack registered it. */
export const registeredTarget = (id: string): RegisteredTarget | undefined => registry.get(id);

/** Ids registered so far (routing rejects ids no rule uses, which catches typos). */
export const registeredTargetIds = (): string[] => [...registry.keys()];
