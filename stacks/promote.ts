import { definition } from "../workflows/promote";
import { functionPermissions } from "./iam";
import { ledger } from "./ledger";
import { registerTarget } from "./targets";
import { topology } from "./topology";
import { byId, stateMachine } from "./workflow";

/**
 * Lambda version promotion: the versioned artifact bucket(s) with EventBridge notifications,
 * the workflow's three task functions (Admit, Resolve, Approval) and the promote workflow, which
 * the artifact rules start directly. Every role gets exactly the topology's statements: Lambda
 * actions on the configured functions and aliases, `s3:GetObject*` under the artifact prefixes,
 * `cloudwatch:DescribeAlarms` on the named alarms, `states:StopExecution` on this workflow's
 * executions.
 *
 * Compared with SAM's DeploymentPreference / SST's CodeDeploy `rollout`: no CodeDeploy
 * application per function, alarms are watched during every step (not only at the end),
 * identical code reuses its version instead of failing, and a newer upload supersedes or
 * queues behind a running promotion.
 */

function create() {
  const admitDef = byId(topology.functions, "PromoteAdmit");
  const resolveDef = byId(topology.functions, "PromoteResolve");
  const approvalDef = byId(topology.functions, "PromoteApproval");
  const workflowDef = byId(topology.stateMachines, "PromoteWorkflow");
  const settings = byId(topology.settings, "PromoteConfig");
  if (!admitDef || !resolveDef || !approvalDef || !workflowDef || !settings) return undefined;

  const buckets = topology.buckets
    .filter((b) => b.flow === "promote" && b.managed)
    .map((b) => {
      const id = `Artifacts${b.name.replace(/[^A-Za-z0-9]/g, "")}`;
      const bucket = new sst.aws.Bucket(id, {
        versioning: b.versioned,
        transform: { bucket: { bucket: b.name, forceDestroy: !topology.production } },
      });
      // S3 → EventBridge, so the artifact rules see "Object Created".
      new aws.s3.BucketNotification(`${id}Notifications`, {
        bucket: bucket.name,
        eventbridge: b.eventBridge ?? true,
      });
      return bucket;
    });

  const promoteConfig = new sst.Linkable(settings.id, { properties: settings.value });
  const fn = (def: NonNullable<typeof admitDef>, link: $util.Input<unknown>[]) =>
    new sst.aws.Function(def.id, {
      handler: def.handler,
      runtime: "nodejs22.x",
      timeout: `${def.timeoutSeconds} seconds`,
      memory: `${def.memoryMb} MB`,
      link: link as never,
      permissions: functionPermissions(def.id, def.permissions, { Ledger: ledger.arn }),
    });
  const admit = fn(admitDef, [ledger, promoteConfig]);
  const resolve = fn(resolveDef, []);
  const approval = fn(approvalDef, [ledger]);

  const { role, machine } = stateMachine(workflowDef, definition, {
    Ledger: { name: ledger.name, arn: ledger.arn },
    PromoteAdmit: { arn: admit.arn },
    PromoteResolve: { arn: resolve.arn },
    PromoteApproval: { arn: approval.arn },
  });

  registerTarget(workflowDef.id, { arn: machine.arn });
  return { buckets, admit, resolve, approval, workflow: machine, role };
}

/** The promote flow's resources, when the stage configures promotions. */
export const promote = create();
