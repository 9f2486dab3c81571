import type { Topology } from "@switchyard/core";
import { topology } from "./topology";

/**
 * The dead-letter convention: every queue the topology marks `deadLetter` becomes an SQS queue
 * with an alarm on its first visible message, and every source queue redrives into its DLQ.
 * Nothing is lost silently: a message that fails ends up somewhere that pages someone.
 */

const seconds = (n: number) => `${n} seconds` as const;

const build = (q: Topology.QueueDef, dlq?: { queue: sst.aws.Queue; retry: number }) =>
  new sst.aws.Queue(q.id, {
    visibilityTimeout: seconds(q.visibilityTimeoutSeconds),
    dlq: dlq && { queue: dlq.queue.arn, retry: dlq.retry },
    transform: {
      queue: { name: q.name, messageRetentionSeconds: q.retentionSeconds },
    },
  });

/** Dead-letter queues by topology id. */
export const deadLetterQueues: Record<string, sst.aws.Queue> = Object.fromEntries(
  topology.queues.filter((q) => q.deadLetter).map((q) => [q.id, build(q)]),
);

/** One alarm per DLQ: `ApproximateNumberOfMessagesVisible >= 1` over one minute. */
export const alarms: Record<string, aws.cloudwatch.MetricAlarm> = Object.fromEntries(
  topology.alarms.map((alarm) => {
    const dlq = deadLetterQueues[alarm.queue];
    if (!dlq)
      throw new Error(`stacks/dlq: alarm '${alarm.id}' watches unknown DLQ '${alarm.queue}'`);
    return [
      alarm.id,
      new aws.cloudwatch.MetricAlarm(alarm.id, {
        name: alarm.name,
        alarmDescription: alarm.description,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: dlq.nodes.queue.name },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      }),
    ];
  }),
);

for (const q of topology.queues.filter((x) => x.deadLetter)) {
  if (!topology.alarms.some((a) => a.queue === q.id)) {
    throw new Error(`stacks/dlq: DLQ '${q.id}' has no alarm in the topology`);
  }
}

/** Source queues (rule targets, function event sources) with their redrive into a DLQ. */
const sourceQueues: Record<string, sst.aws.Queue> = Object.fromEntries(
  topology.queues
    .filter((q) => !q.deadLetter)
    .map((q) => {
      if (!q.redrive) throw new Error(`stacks/dlq: queue '${q.id}' has no dead-letter queue`);
      const dlq = deadLetterQueues[q.redrive.deadLetterQueue];
      if (!dlq) {
        throw new Error(
          `stacks/dlq: queue '${q.id}' redrives to unknown DLQ '${q.redrive.deadLetterQueue}'`,
        );
      }
      return [q.id, build(q, { queue: dlq, retry: q.redrive.maxReceiveCount })];
    }),
);

/** Every queue of the topology by id, DLQs included. Link them to functions as needed. */
export const queues: Record<string, sst.aws.Queue> = { ...deadLetterQueues, ...sourceQueues };
