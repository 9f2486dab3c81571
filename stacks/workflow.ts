import { Topology, type Workflow } from "@switchyard/core";
import { serviceRole, statements } from "./iam";
import { topology } from "./topology";

/** A topology definition by id (functions, state machines, settings). */
export const byId = <T extends { id: string }>(list: readonly T[], id: string) =>
  list.find((x) => x.id === id);

/**
 * A topology state machine as AWS resources: a role trusted by Step Functions with exactly the
 * topology's statements, `aws.sfn.StateMachine` with the flow's own JSONPath ASL (SST's
 * StepFunctions builder emits JSONata), and an `sst.Linkable` under the topology id so functions
 * link it as `Resource.<Id>` ({ name, arn }), as the local runtime sets it.
 */
export function stateMachine(
  def: Topology.StateMachineDef,
  build: (ctx: Workflow.Context) => Workflow.Asl,
  /** ARNs (and names) of the resources the ASL and the statements reference, by topology id. */
  resources: Record<string, { name?: $util.Input<string>; arn: $util.Input<string> }>,
) {
  const role = serviceRole(
    `${def.id}Role`,
    "states.amazonaws.com",
    Topology.physicalName(topology.app, topology.stage, `${def.workflow}-workflow`, 64),
    `Switchyard ${def.workflow} workflow`,
  );
  new aws.iam.RolePolicy(`${def.id}Policy`, {
    role: role.name,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: statements(
        def.id,
        def.permissions,
        Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.arn])),
      ),
    }),
  });
  const machine = new aws.sfn.StateMachine(`${def.id}StateMachine`, {
    name: def.name,
    type: def.type,
    roleArn: role.arn,
    definition: $resolve(
      Object.fromEntries(
        Object.entries(resources).map(([id, r]) => [
          id,
          $resolve({ name: r.name ?? "", arn: r.arn }),
        ]),
      ),
    ).apply((resolved) =>
      JSON.stringify(
        build({
          topology,
          resources: resolved as Record<string, { name: string; arn: string }>,
        }),
      ),
    ),
  });
  const link = new sst.Linkable(def.id, { properties: { name: machine.name, arn: machine.arn } });
  return { role, machine, link };
}
