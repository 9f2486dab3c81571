import { Topology } from "@switchyard/core";
import { bus } from "./bus";
import { queues } from "./dlq";
import { PENDING_FLOWS, registeredTarget, registeredTargetIds } from "./targets";
import { topology } from "./topology";

/**
 * Turns the topology's rules into EventBridge rules on the default bus, each with one target,
 * a retry policy and a dead-letter queue, plus the resource policies that let EventBridge
 * deliver: SQS queue policies (targets and DLQs) and Lambda permissions, each limited to the
 * exact rule ARNs (`aws:SourceArn`) that use them.
 *
 * Import order in sst.config.ts: `./dlq` and every flow stack that calls `registerTarget`
 * (see `./targets`) come before this module.
 */

/** Flows whose rules are skipped until their stack registers the targets; see ./targets. */
export { PENDING_FLOWS };

const SOURCE_ARN = "aws:SourceArn";

/** `{ queue id → ARNs of the rules allowed to send to it }`, for the queue policies below. */
const senders = new Map<string, $util.Output<string>[]>();
const allowSend = (queueId: string, ruleArn: $util.Output<string>) => {
  senders.set(queueId, [...(senders.get(queueId) ?? []), ruleArn]);
};

const queueFor = (rule: Topology.RuleDef, queueId: string, role: string): sst.aws.Queue => {
  const q = queues[queueId];
  if (!q) {
    throw new Error(`stacks/routing: rule '${rule.id}' uses unknown ${role} queue '${queueId}'`);
  }
  return q;
};

const targetIdOf = (target: Topology.TargetDef): string =>
  target.kind === "queue"
    ? target.queue
    : target.kind === "function"
      ? target.function
      : target.stateMachine;

/** Role EventBridge assumes to start executions of one state machine, trusted for one rule only. */
function stateMachineInvokeRole(
  rule: Topology.RuleDef,
  rule$: aws.cloudwatch.EventRule,
  arn: $util.Input<string>,
) {
  const role = new aws.iam.Role(`${rule.id}InvokeRole`, {
    name: Topology.physicalName(topology.app, topology.stage, `rule-${rule.id}`, 64),
    description: `EventBridge rule ${rule.name} starts its state machine`,
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { ArnEquals: { [SOURCE_ARN]: rule$.arn } },
        },
      ],
    }),
  });
  new aws.iam.RolePolicy(`${rule.id}InvokePolicy`, {
    role: role.name,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "states:StartExecution", Resource: arn }],
    }),
  });
  return role.arn;
}

/** Where a rule delivers: the target ARN and, for state machines, the role EventBridge assumes. */
function resolveTarget(
  rule: Topology.RuleDef,
  rule$: aws.cloudwatch.EventRule,
): { arn: $util.Input<string>; roleArn?: $util.Input<string> } {
  const target = rule.target;
  if (target.kind === "queue") {
    const q = queueFor(rule, target.queue, "target");
    allowSend(target.queue, rule$.arn);
    return { arn: q.arn };
  }
  const id = targetIdOf(target);
  const registered = registeredTarget(id);
  if (!registered) {
    throw new Error(
      `stacks/routing: rule '${rule.id}' (flow '${rule.flow}') targets ${target.kind} '${id}', ` +
        `but no stack registered it. Fix: import "./stacks/${rule.flow}" before "./stacks/routing" ` +
        `in sst.config.ts (it must call registerTarget("${id}", { arn }) from "./targets"), ` +
        `or list '${rule.flow}' in PENDING_FLOWS in stacks/targets.ts.`,
    );
  }
  if (target.kind === "function") {
    new aws.lambda.Permission(`${rule.id}Permission`, {
      action: "lambda:InvokeFunction",
      function: registered.arn,
      principal: "events.amazonaws.com",
      sourceArn: rule$.arn,
    });
    return { arn: registered.arn };
  }
  return {
    arn: registered.arn,
    roleArn: registered.roleArn ?? stateMachineInvokeRole(rule, rule$, registered.arn),
  };
}

/** Rules created on this stage, by topology rule id. */
export const rules: Record<string, aws.cloudwatch.EventRule> = {};
/** Ids of the rules skipped because their flow is pending. */
export const skippedRules: string[] = [];

for (const rule of topology.rules) {
  const dlq = queueFor(rule, rule.target.deadLetterQueue, "dead-letter");
  const pending =
    PENDING_FLOWS.includes(rule.flow) &&
    rule.target.kind !== "queue" &&
    !registeredTarget(targetIdOf(rule.target));
  if (pending) {
    skippedRules.push(rule.id);
    $util.log.warn(
      `routing: skipped rule ${rule.name} (${rule.id}): the '${rule.flow}' flow's stack is not implemented yet ` +
        `(PENDING_FLOWS in stacks/targets.ts). Its events are still archived and can be replayed once it exists.`,
    );
    continue;
  }
  const rule$ = new aws.cloudwatch.EventRule(rule.id, {
    name: rule.name,
    description: rule.description,
    eventBusName: bus.name,
    eventPattern: JSON.stringify(rule.pattern),
  });
  const target = resolveTarget(rule, rule$);
  new aws.cloudwatch.EventTarget(`${rule.id}Target`, {
    rule: rule$.name,
    eventBusName: bus.name,
    targetId: targetIdOf(rule.target),
    arn: target.arn,
    roleArn: target.roleArn,
    deadLetterConfig: { arn: dlq.arn },
    retryPolicy: {
      maximumRetryAttempts: rule.target.maximumRetryAttempts,
      maximumEventAgeInSeconds: rule.target.maximumEventAgeSeconds,
    },
  });
  allowSend(rule.target.deadLetterQueue, rule$.arn);
  rules[rule.id] = rule$;
}

const used = new Set(topology.rules.map((r) => targetIdOf(r.target)));
for (const id of registeredTargetIds()) {
  if (!used.has(id)) {
    throw new Error(
      `stacks/routing: a stack registered target '${id}', but no rule of stage '${topology.stage}' targets it. ` +
        `Fix: use the topology's function/state-machine id (${[...used].join(", ") || "none"}).`,
    );
  }
}

/** One policy per queue: EventBridge may send only from the rules that target it or dead-letter into it. */
export const queuePolicies: Record<string, aws.sqs.QueuePolicy> = Object.fromEntries(
  [...senders].map(([queueId, ruleArns]) => {
    const q = queues[queueId];
    if (!q) throw new Error(`stacks/routing: unknown queue '${queueId}'`);
    return [
      queueId,
      new aws.sqs.QueuePolicy(`${queueId}Policy`, {
        queueUrl: q.url,
        policy: $jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "EventBridgeRules",
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: q.arn,
              Condition: { ArnEquals: { [SOURCE_ARN]: ruleArns } },
            },
          ],
        }),
      }),
    ];
  }),
);
