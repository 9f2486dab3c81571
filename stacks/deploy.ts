import { definition } from "../workflows/deploy";
import { deadLetterQueues } from "./dlq";
import { functionPermissions } from "./iam";
import { ledger } from "./ledger";
import { registerTarget } from "./targets";
import { topology } from "./topology";
import { byId, stateMachine } from "./workflow";

/**
 * Deploy on image push: the handler the ECR rule targets, the DeployRevision task function and
 * the deploy workflow (our JSONPath ASL through Pulumi's `aws.sfn.StateMachine`, since SST's
 * StepFunctions builder emits JSONata), each with exactly the topology's IAM statements.
 *
 * Services that IaC also manages (an `sst.aws.Service`, a Terraform `aws_ecs_service`) will see
 * Switchyard's new task-definition revisions as drift and put the old image back on their next
 * deploy. Point Switchyard at services that IaC does not own, or make their owners ignore
 * `taskDefinition` changes (e.g. Pulumi `ignoreChanges: ["taskDefinition"]`).
 */

function create() {
  const handlerDef = byId(topology.functions, "DeployHandler");
  const revisionDef = byId(topology.functions, "DeployRevision");
  const workflowDef = byId(topology.stateMachines, "DeployWorkflow");
  const settings = topology.settings.find((s) => s.id === "DeployConfig");
  if (!handlerDef || !revisionDef || !workflowDef || !settings) return undefined;
  const dlq = handlerDef.asyncDeadLetterQueue && deadLetterQueues[handlerDef.asyncDeadLetterQueue];
  if (!dlq) throw new Error("stacks/deploy: the deploy handler's dead-letter queue is missing");

  const revision = new sst.aws.Function(revisionDef.id, {
    handler: revisionDef.handler,
    runtime: "nodejs22.x",
    timeout: `${revisionDef.timeoutSeconds} seconds`,
    memory: `${revisionDef.memoryMb} MB`,
    permissions: functionPermissions(revisionDef.id, revisionDef.permissions, {}),
  });

  const {
    role,
    machine,
    link: workflow,
  } = stateMachine(workflowDef, definition, {
    Ledger: { name: ledger.name, arn: ledger.arn },
    DeployRevision: { arn: revision.arn },
  });
  const deployConfig = new sst.Linkable(settings.id, { properties: settings.value });

  const handler = new sst.aws.Function(handlerDef.id, {
    handler: handlerDef.handler,
    runtime: "nodejs22.x",
    timeout: `${handlerDef.timeoutSeconds} seconds`,
    memory: `${handlerDef.memoryMb} MB`,
    link: [ledger, workflow, deployConfig],
    permissions: [
      ...functionPermissions(handlerDef.id, handlerDef.permissions, {
        Ledger: ledger.arn,
        DeployWorkflow: machine.arn,
      }),
      // Async invocations that still fail after Lambda's two retries go to the flow's DLQ.
      { actions: ["sqs:SendMessage"], resources: [dlq.arn] },
    ],
    transform: { function: { deadLetterConfig: { targetArn: dlq.arn } } },
  });
  new aws.lambda.FunctionEventInvokeConfig(`${handlerDef.id}InvokeConfig`, {
    functionName: handler.name,
    maximumRetryAttempts: 2,
    destinationConfig: { onFailure: { destination: dlq.arn } },
  });

  registerTarget(handlerDef.id, { arn: handler.arn });
  return { handler, revision, workflow: machine, role };
}

/** The deploy flow's resources, when the stage configures deploys. */
export const deploy = create();
