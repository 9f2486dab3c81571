import { EventEmitter } from "node:events";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import type { Clients } from "@switchyard/aws";
import type { Topology } from "@switchyard/core";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { type Handler, lambdaContext } from "./lambda";
import type { Provisioned, QueueRef } from "./provision";
import type { LocalStepFunctions } from "./sfn";

export type Outcome = "done" | "retry" | "dead-lettered" | "started";

export interface DispatchRecord {
  /** Rule id, or the queue id for queue event sources. */
  source: string;
  target: string;
  outcome: Outcome;
  messages: number;
  failed: number;
  ms: number;
  error?: string;
}

export interface DispatcherOptions {
  topology: Topology.Topology;
  provisioned: Provisioned;
  clients: Clients;
  sfn: LocalStepFunctions;
  /** Handler for each topology function id; missing ones dead-letter their events with a clear error. */
  handlers: Record<string, Handler | undefined>;
  log?: (line: string) => void;
  /** Attempts for asynchronous (EventBridge → Lambda) invocations, as Lambda makes: 1 + 2 retries. */
  asyncAttempts?: number;
  /** Pause between polls of an empty queue, in ms. */
  idlePollMs?: number;
  /** Upper bound on a queue source's batching window locally, in ms. */
  maxWindowMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The message body as EventBridge would have written it. moto's delivery to an SQS target
 * leaves out the envelope's `account` for events put with PutEvents, which AWS always sets; it
 * is the emulator's account, so it is filled in here. Other bodies pass through unchanged.
 */
function withAccount(body: string, account: string): string {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) return body;
  return "detail-type" in event && !("account" in event)
    ? JSON.stringify({ ...event, account })
    : body;
}

/** The event a Lambda or state-machine target receives; a body that is not JSON stays a string. */
function envelope(body: string, account: string): unknown {
  const fixed = withAccount(body, account);
  try {
    return JSON.parse(fixed);
  } catch {
    return fixed;
  }
}

/** The SQS record an event source mapping would hand the function. */
function toRecord(message: Message, queue: QueueRef, region: string, account: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: withAccount(message.Body ?? "", account),
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp:
        attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/**
 * Polls the queues that stand in for rule targets and queue event sources, and invokes
 * handlers in-process with the event shape Lambda would deliver:
 * - function targets get the EventBridge event (async invoke: retried, then dead-lettered
 *   with the original event and the error);
 * - queue sources get an `SQSEvent` batch and may report `batchItemFailures`;
 * - state-machine targets start a local execution with the event as input.
 * Emits `dispatch` with a `DispatchRecord` for each delivery.
 */
export class Dispatcher extends EventEmitter<{ dispatch: [DispatchRecord] }> {
  private running = false;
  private loops: Promise<void>[] = [];
  private inflight = 0;

  constructor(private readonly o: DispatcherOptions) {
    super();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { topology, provisioned } = this.o;
    for (const rule of topology.rules) {
      const queue = provisioned.ruleTargets[rule.id];
      if (!queue || rule.target.kind === "queue") continue; // queue targets are read by their consumer below
      const target = rule.target;
      this.loops.push(
        this.loop(queue, 10, 0, undefined, (messages) =>
          this.deliverEvent(rule, target, queue, messages),
        ),
      );
    }
    for (const fn of topology.functions) {
      for (const source of fn.queues) {
        const queue = provisioned.queues[source.queue];
        if (!queue) continue;
        const windowMs = Math.min(source.windowSeconds * 1000, this.o.maxWindowMs ?? 1000);
        // As with Lambda's event source mapping, a received message stays hidden while the batch
        // fills and the function runs; failed ones are made visible again at once (below).
        const visibility = Math.ceil(windowMs / 1000) + fn.timeoutSeconds;
        this.loops.push(
          this.loop(queue, source.batchSize, windowMs, visibility, (messages) =>
            this.deliverBatch(fn, source.queue, queue, messages),
          ),
        );
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Resolves when no delivery is in flight and every watched queue was empty on its last poll. */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietSince = 0;
    while (Date.now() < deadline) {
      if (this.inflight === 0) {
        quietSince ||= Date.now();
        if (Date.now() - quietSince > 1500) return;
      } else quietSince = 0;
      await sleep(50);
    }
    throw new Error(`dispatcher still busy after ${timeoutMs} ms`);
  }

  private async loop(
    queue: QueueRef,
    batchSize: number,
    windowMs: number,
    /** Seconds a received message stays hidden; the queue's own default when undefined. */
    visibilitySeconds: number | undefined,
    deliver: (m: Message[]) => Promise<void>,
  ): Promise<void> {
    const { sqs } = this.o.clients;
    while (this.running) {
      try {
        const batch: Message[] = [];
        const first = Date.now();
        do {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: Math.min(10, batchSize - batch.length),
              WaitTimeSeconds: 0,
              VisibilityTimeout: visibilitySeconds,
              MessageSystemAttributeNames: ["All"],
            }),
          );
          batch.push(...Messages);
          if (Messages.length === 0 && batch.length > 0 && Date.now() - first >= windowMs) break;
          if (Messages.length === 0 && batch.length > 0) await sleep(Math.min(100, windowMs));
        } while (
          this.running &&
          batch.length > 0 &&
          batch.length < batchSize &&
          Date.now() - first < windowMs
        );
        if (batch.length === 0) {
          // Short polling with a pause: moto serves long polls by sleeping in a request thread,
          // and several idle long polls slow every other request to a crawl.
          await sleep(this.o.idlePollMs ?? 100);
          continue;
        }
        this.inflight++;
        try {
          await deliver(batch);
        } finally {
          this.inflight--;
        }
      } catch (error) {
        if (!this.running) break;
        this.o.log?.(
          `[dispatch] polling ${queue.name} failed: ${(error as Error).message}; retrying in 1 s`,
        );
        await sleep(1000);
      }
    }
  }

  private async deadLetter(
    queueId: string,
    body: string,
    error: Error,
    source: string,
  ): Promise<void> {
    const dlq = this.o.provisioned.queues[queueId];
    if (!dlq) throw new Error(`dead-letter queue ${queueId} is not provisioned`);
    await this.o.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq.url,
        MessageBody: body,
        // The attributes Lambda puts on an asynchronous invocation's dead letter.
        MessageAttributes: {
          ErrorCode: { DataType: "String", StringValue: error.name || "Error" },
          ErrorMessage: {
            DataType: "String",
            StringValue: (error.message || "unknown error").slice(0, 1000),
          },
          Source: { DataType: "String", StringValue: source },
        },
      }),
    );
  }

  private async remove(queue: QueueRef, messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      await this.o.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
    }
  }

  private emitRecord(r: DispatchRecord): void {
    const suffix = r.error ? `: ${r.error}` : "";
    this.o.log?.(
      `[dispatch] ${r.source} → ${r.target}: ${r.outcome} (${r.messages - r.failed}/${r.messages} ok, ${r.ms} ms)${suffix}`,
    );
    this.emit("dispatch", r);
  }

  private async deliverEvent(
    rule: Topology.RuleDef,
    target: Exclude<Topology.TargetDef, { kind: "queue" }>,
    queue: QueueRef,
    messages: Message[],
  ) {
    const { topology, provisioned } = this.o;
    for (const message of messages) {
      const started = Date.now();
      const body = message.Body ?? "{}";
      const event = envelope(body, provisioned.account);
      let error: Error | undefined;
      let outcome: Outcome = "done";
      if (target.kind === "state-machine") {
        const sm = provisioned.stateMachines[target.stateMachine];
        try {
          if (!sm) throw new Error(`state machine ${target.stateMachine} is not provisioned`);
          this.o.sfn.start(sm.arn, JSON.stringify(event));
          outcome = "started";
        } catch (e) {
          error = e as Error;
        }
      } else {
        const fn = topology.functions.find((f) => f.id === target.function);
        const handler = this.o.handlers[target.function];
        const attempts = this.o.asyncAttempts ?? 3;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          try {
            if (!handler)
              throw new Error(
                `no handler for ${target.function}: ${fn?.handler ?? "?"} is not implemented in this build`,
              );
            await handler(
              event,
              lambdaContext(
                target.function,
                fn?.timeoutSeconds ?? 60,
                provisioned.region,
                provisioned.account,
              ),
            );
            error = undefined;
            break;
          } catch (e) {
            error = e as Error;
            if (!handler) break;
          }
        }
      }
      if (error) {
        await this.deadLetter(target.deadLetterQueue, body, error, rule.id);
        outcome = "dead-lettered";
      }
      await this.remove(queue, [message]);
      this.emitRecord({
        source: rule.id,
        target: target.kind === "state-machine" ? target.stateMachine : target.function,
        outcome,
        messages: 1,
        failed: error ? 1 : 0,
        ms: Date.now() - started,
        ...(error ? { error: error.message } : {}),
      });
    }
  }

  private async deliverBatch(
    fn: Topology.FunctionDef,
    queueId: string,
    queue: QueueRef,
    messages: Message[],
  ) {
    const { provisioned } = this.o;
    const started = Date.now();
    const handler = this.o.handlers[fn.id];
    const event: SQSEvent = {
      Records: messages.map((m) => toRecord(m, queue, provisioned.region, provisioned.account)),
    };
    let failedIds = new Set<string>();
    let error: Error | undefined;
    try {
      if (!handler)
        throw new Error(`no handler for ${fn.id}: ${fn.handler} is not implemented in this build`);
      const result = (await handler(
        event,
        lambdaContext(fn.id, fn.timeoutSeconds, provisioned.region, provisioned.account),
      )) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      failedIds = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (e) {
      error = e as Error;
      failedIds = new Set(messages.map((m) => m.MessageId ?? ""));
    }
    const ok = messages.filter((m) => !failedIds.has(m.MessageId ?? ""));
    const failed = messages.filter((m) => failedIds.has(m.MessageId ?? ""));
    await this.remove(queue, ok);
    // Failed messages become visible again and are retried; after the queue's
    // maxReceiveCount the emulator's redrive moves them to the DLQ, as SQS does.
    for (let i = 0; i < failed.length; i += 10) {
      await this.o.clients.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: failed.slice(i, i + 10).map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle ?? "",
            VisibilityTimeout: 1,
          })),
        }),
      );
    }
    this.emitRecord({
      source: queueId,
      target: fn.id,
      outcome: failed.length > 0 ? "retry" : "done",
      messages: messages.length,
      failed: failed.length,
      ms: Date.now() - started,
      ...(error ? { error: error.message } : {}),
    });
  }
}
