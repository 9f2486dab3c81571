import { definition } from "../workflows/ingest";
import { queues } from "./dlq";
import { functionPermissions } from "./iam";
import { ledger } from "./ledger";
import { topology } from "./topology";
import { byId, stateMachine } from "./workflow";

/**
 * File-drop ingestion: the manifests bucket, the handler reading every dataset queue (batch
 * size and window from the config, partial batch failures on), the Snowflake refresh function
 * and the ingest workflow, each with the topology's IAM statements.
 *
 * Source buckets usually belong to their producers: Switchyard does not rewrite their
 * notification configuration. Turn on "Send notifications to Amazon EventBridge" on each
 * dataset bucket (`aws s3api put-bucket-notification-configuration --bucket <b>
 * --notification-configuration '{"EventBridgeConfiguration":{}}'`, merged with what is there).
 */

function create() {
  const handlerDef = byId(topology.functions, "IngestHandler");
  const refreshDef = byId(topology.functions, "IngestRefresh");
  const workflowDef = byId(topology.stateMachines, "IngestWorkflow");
  const settings = byId(topology.settings, "IngestConfig");
  const snowflakeSettings = byId(topology.settings, "Snowflake");
  const manifestsDef = topology.buckets.find((b) => b.id === "Manifests");
  if (
    !handlerDef ||
    !refreshDef ||
    !workflowDef ||
    !settings ||
    !snowflakeSettings ||
    !manifestsDef
  )
    return undefined;

  const manifests = new sst.aws.Bucket("Manifests", {
    transform: { bucket: { bucket: manifestsDef.name, forceDestroy: !topology.production } },
  });
  const snowflake = new sst.Linkable("Snowflake", { properties: snowflakeSettings.value });
  const ingestConfig = new sst.Linkable("IngestConfig", { properties: settings.value });

  const refresh = new sst.aws.Function(refreshDef.id, {
    handler: refreshDef.handler,
    runtime: "nodejs22.x",
    timeout: `${refreshDef.timeoutSeconds} seconds`,
    memory: `${refreshDef.memoryMb} MB`,
    link: [ledger, snowflake],
    permissions: functionPermissions(refreshDef.id, refreshDef.permissions, { Ledger: ledger.arn }),
  });

  const { machine, link: workflow } = stateMachine(workflowDef, definition, {
    Ledger: { name: ledger.name, arn: ledger.arn },
    IngestRefresh: { arn: refresh.arn },
  });

  const queueRefs = Object.fromEntries(
    handlerDef.link
      .filter((id) => queues[id])
      .concat(handlerDef.queues.map((q) => q.queue))
      .map((id) => [id, queues[id]?.arn ?? ""]),
  );
  const handler = new sst.aws.Function(handlerDef.id, {
    handler: handlerDef.handler,
    runtime: "nodejs22.x",
    timeout: `${handlerDef.timeoutSeconds} seconds`,
    memory: `${handlerDef.memoryMb} MB`,
    link: [
      ledger,
      workflow,
      ingestConfig,
      manifests,
      ...handlerDef.link.flatMap((id) => (queues[id] ? [queues[id]] : [])),
    ],
    permissions: functionPermissions(handlerDef.id, handlerDef.permissions, {
      Ledger: ledger.arn,
      IngestWorkflow: machine.arn,
      Manifests: manifests.arn,
      ...queueRefs,
    }),
  });
  for (const source of handlerDef.queues) {
    const queue = queues[source.queue];
    if (!queue) throw new Error(`stacks/ingest: source queue '${source.queue}' is missing`);
    new aws.lambda.EventSourceMapping(`${source.queue}Mapping`, {
      eventSourceArn: queue.arn,
      functionName: handler.name,
      batchSize: source.batchSize,
      maximumBatchingWindowInSeconds: source.windowSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
  }
  return { handler, refresh, workflow: machine, manifests };
}

/** The ingest flow's resources, when the stage configures datasets. */
export const ingest = create();
