import { GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { clients } from "@switchyard/aws";
import { Topology } from "@switchyard/core";
import { loadProjectConfig } from "@switchyard/local/runtime";
import { connect, UsageError } from "../context";

export interface DlqArgs {
  action: string;
  stage: string;
  queue?: string;
  limit: number;
  json: boolean;
}

interface DeadLetter {
  messageId: string;
  source?: string;
  error?: string;
  errorCode?: string;
  sentAt?: string;
  receiveCount?: string;
  /** The original event (or SQS message body), as it was dead-lettered. */
  body: unknown;
}

const parse = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
};

/**
 * `switchyard dlq list`: how many dead letters each DLQ of the stage holds and, with
 * `--queue`, the first ones with their error. Messages are peeked (visibility timeout 0),
 * not consumed.
 */
export async function dlq(args: DlqArgs): Promise<void> {
  if (args.action !== "list")
    throw new UsageError(
      `unknown dlq action '${args.action}'. Use: switchyard dlq list [--queue ID]`,
    );
  const { resources } = connect(args.stage);
  const topology = Topology.build(await loadProjectConfig(args.stage));
  const dlqs = topology.queues.filter((q) => q.deadLetter && (!args.queue || q.id === args.queue));
  if (args.queue && dlqs.length === 0) {
    const known = topology.queues.filter((q) => q.deadLetter).map((q) => q.id);
    throw new UsageError(
      `'${args.queue}' is not a dead-letter queue of stage ${args.stage}. Known: ${known.join(", ")}`,
    );
  }
  const { sqs } = clients();
  const rows = [];
  for (const q of dlqs) {
    const url = resources[q.id]?.url;
    if (!url)
      throw new UsageError(
        `queue ${q.id} is not linked on stage ${args.stage}; is the stage deployed with this config?`,
      );
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const row: {
      queue: string;
      flow: string;
      waiting: number;
      inFlight: number;
      messages?: DeadLetter[];
    } = {
      queue: q.id,
      flow: q.flow,
      waiting: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
    if (args.queue) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, args.limit),
          VisibilityTimeout: 0,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
        }),
      );
      row.messages = Messages.map((m) => ({
        messageId: m.MessageId ?? "",
        source: m.MessageAttributes?.Source?.StringValue,
        error: m.MessageAttributes?.ErrorMessage?.StringValue,
        errorCode: m.MessageAttributes?.ErrorCode?.StringValue,
        sentAt: m.Attributes?.SentTimestamp
          ? new Date(Number(m.Attributes.SentTimestamp)).toISOString()
          : undefined,
        receiveCount: m.Attributes?.ApproximateReceiveCount,
        body: parse(m.Body ?? ""),
      }));
    }
    rows.push(row);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ stage: args.stage, queues: rows })}\n`);
    return;
  }
  for (const row of rows) {
    process.stdout.write(
      `${row.queue.padEnd(28)} ${row.flow.padEnd(8)} ${String(row.waiting).padStart(6)} waiting\n`,
    );
    for (const m of row.messages ?? []) {
      const summary = JSON.stringify(m.body).slice(0, 160);
      process.stdout.write(
        `  ${m.sentAt ?? "?"} ${m.source ?? ""} ${m.errorCode ?? ""}: ${m.error ?? "(no error recorded)"}\n    ${summary}\n`,
      );
    }
  }
  const total = rows.reduce((n, r) => n + r.waiting, 0);
  process.stdout.write(
    total === 0
      ? "no dead letters\n"
      : `${total} dead letter(s). Each holds the original event; fix the cause, then replay or resend it.\n`,
  );
}
