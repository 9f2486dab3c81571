import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  GetAliasCommand,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Promote } from "@switchyard/core";
import type { Clients } from "./clients";
import { conditionFailed, epochSeconds, listFlow } from "./ledger";

/**
 * The promote flow's AWS side: admission (dedupe, never regress, one promotion per alias at a
 * time), version reuse, approvals and operator rollbacks. Decisions come from core's `Promote`.
 */

type PromoteClients = Pick<Clients, "doc" | "s3" | "cloudwatch" | "sfn" | "lambda">;

/** The execution name of an ARN (`arn:…:execution:<machine>:<name>` → `<name>`). */
export const executionName = (arn: string): string => arn.split(":").pop() ?? arn;

/** What Admit writes on a run (every name through `#`: several are DynamoDB reserved words). */
const RUN_FIELDS = [
  "flow",
  "at",
  "status",
  "execution",
  "function",
  "alias",
  "bucket",
  "key",
  "versionId",
  "uploadedAt",
  "strategy",
  "expiresAt",
] as const;

const isShifted = (status: unknown) => status === "SHIFTING" || status === "AWAITING_APPROVAL";

/** Records an upload that caused no promotion (a skip, or a failure found before any change). */
async function recordSkip(
  c: PromoteClients,
  table: string,
  s: {
    pk: string;
    eventId: string;
    reason: string;
    status?: Extract<Promote.Status, "SKIPPED" | "FAILED">;
    artifact?: Partial<Promote.Artifact>;
    promotion?: { function: string; alias: string };
    execution?: string;
  },
  now = new Date(),
): Promise<void> {
  await c.doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: s.pk,
        sk: Promote.keys.skip(s.eventId),
        flow: Promote.FLOW,
        at: now.toISOString(),
        status: s.status ?? "SKIPPED",
        reason: s.reason,
        execution: s.execution,
        function: s.promotion?.function,
        alias: s.promotion?.alias,
        bucket: s.artifact?.bucket,
        key: s.artifact?.key,
        versionId: s.artifact?.versionId,
        expiresAt: epochSeconds(now, Promote.RETENTION_SECONDS.skip),
      },
    }),
  );
}

async function updateRun(
  c: PromoteClients,
  table: string,
  key: { pk: string; sk: string },
  status: Promote.Status,
  reason: string | undefined,
  now = new Date(),
): Promise<void> {
  await c.doc.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: `SET #status = :status, #at = :at${reason ? ", #reason = :reason" : ""}${
        Promote.FINAL.includes(status) ? ", #finishedAt = :at" : ""
      }`,
      ExpressionAttributeNames: {
        "#status": "status",
        "#at": "at",
        ...(reason ? { "#reason": "reason" } : {}),
        ...(Promote.FINAL.includes(status) ? { "#finishedAt": "finishedAt" } : {}),
      },
      ExpressionAttributeValues: {
        ":status": status,
        ":at": now.toISOString(),
        ...(reason ? { ":reason": reason } : {}),
      },
    }),
  );
}

/** Whether an execution is still running (a missing one is not). */
async function isRunning(c: PromoteClients, executionArn: string): Promise<boolean> {
  try {
    const d = await c.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === "RUNNING";
  } catch (error) {
    if ((error as Error).name === "ExecutionDoesNotExist") return false;
    throw error;
  }
}

/**
 * The workflow's Admit task. Every upload ends here as a run to start, a wait (another promotion
 * of the alias is running and the policy is `queue`), or a skip recorded with its reason.
 */
export async function admit(
  c: PromoteClients,
  table: string,
  settings: Promote.Settings,
  payload: { event: unknown; execution: string },
  now = new Date(),
): Promise<Promote.Admission> {
  const me = payload.execution;
  const rawId = (payload.event as { id?: unknown } | null)?.id;
  const parsed = Promote.parseArtifact(payload.event);
  if ("error" in parsed) {
    const eventId = typeof rawId === "string" && rawId ? rawId : executionName(me);
    await recordSkip(c, table, {
      pk: Promote.keys.unrouted,
      eventId,
      reason: parsed.error,
      execution: me,
    });
    return { action: "skip", reason: parsed.error };
  }
  const { artifact } = parsed;
  const found = Promote.match(settings.promotions, artifact.bucket, artifact.key);
  if ("skip" in found) {
    await recordSkip(c, table, {
      pk: Promote.keys.unrouted,
      eventId: artifact.eventId,
      reason: found.skip,
      artifact,
      execution: me,
    });
    return { action: "skip", reason: found.skip };
  }
  const p = found.promotion;
  const pk = Promote.keys.alias(p.function, p.alias);
  const fail = async (reason: string) => {
    await recordSkip(c, table, {
      pk,
      eventId: artifact.eventId,
      reason,
      status: "FAILED",
      artifact,
      promotion: p,
      execution: me,
    });
    return { action: "skip", reason } as const;
  };
  if (!artifact.versionId)
    return fail(
      `s3://${artifact.bucket}/${artifact.key} has no version id: turn on versioning for bucket ${artifact.bucket} (promotions update code from an exact object version), then upload the build again`,
    );
  try {
    await c.s3.send(
      new HeadObjectCommand({
        Bucket: artifact.bucket,
        Key: artifact.key,
        VersionId: artifact.versionId,
      }),
    );
  } catch (error) {
    const name = (error as Error).name;
    if (name !== "NotFound" && name !== "NoSuchKey" && name !== "NoSuchVersion") throw error;
    return fail(
      `object version ${artifact.versionId} of s3://${artifact.bucket}/${artifact.key} no longer exists (deleted after the upload?); upload the build again`,
    );
  }

  // One run per object version: a duplicate delivery or a replay finds it and does nothing.
  const sk = Promote.keys.run(artifact.bucket, artifact.key, artifact.versionId);
  const uploadedAt = (payload.event as { time?: string }).time ?? now.toISOString();
  try {
    await c.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk, sk },
        UpdateExpression: `SET ${RUN_FIELDS.map((f) => `#${f} = :${f}`).join(", ")}, #startedAt = if_not_exists(#startedAt, :at)`,
        ConditionExpression: "attribute_not_exists(sk) OR #execution = :execution",
        ExpressionAttributeNames: Object.fromEntries(
          [...RUN_FIELDS, "startedAt"].map((f) => [`#${f}`, f]),
        ),
        ExpressionAttributeValues: {
          ":flow": Promote.FLOW,
          ":at": now.toISOString(),
          ":status": "STARTING",
          ":execution": me,
          ":function": p.function,
          ":alias": p.alias,
          ":bucket": artifact.bucket,
          ":key": artifact.key,
          ":versionId": artifact.versionId,
          ":uploadedAt": uploadedAt,
          ":strategy": Promote.describeStrategy(p.strategy),
          ":expiresAt": epochSeconds(now, Promote.RETENTION_SECONDS.run),
        },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { Item } = await c.doc.send(
      new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }),
    );
    const reason = `duplicate: s3://${artifact.bucket}/${artifact.key} version ${artifact.versionId} was already handled by execution ${executionName(String(Item?.execution ?? "?"))} (${String(Item?.status ?? "?")})`;
    await recordSkip(c, table, { pk, eventId: artifact.eventId, reason, artifact, promotion: p });
    return { action: "skip", reason };
  }
  const run = { pk, sk };

  if (p.alarms.length > 0) {
    const { MetricAlarms = [], CompositeAlarms = [] } = await c.cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNames: p.alarms,
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
      }),
    );
    const known = new Set([...MetricAlarms, ...CompositeAlarms].map((a) => a.AlarmName));
    const missing = p.alarms.filter((a) => !known.has(a));
    if (missing.length > 0) {
      const reason = `alarm${missing.length > 1 ? "s" : ""} ${missing.join(", ")} do${missing.length > 1 ? "" : "es"} not exist: create ${missing.length > 1 ? "them" : "it"} in CloudWatch or fix promotion '${p.name}' alarms (a promotion never runs unwatched)`;
      await updateRun(c, table, run, "FAILED", reason, now);
      return { action: "skip", reason };
    }
  }

  const lockKey = { pk, sk: Promote.keys.lock };
  const { Item: lockItem } = await c.doc.send(
    new GetCommand({ TableName: table, Key: lockKey, ConsistentRead: true }),
  );
  const lock = lockItem ? Promote.Lock.parse(lockItem) : undefined;
  if (lock?.holder !== me && !Promote.newerUpload(lock, uploadedAt)) {
    const reason = `older build: uploaded at ${uploadedAt}, before the newest build admitted for ${p.function}:${p.alias} (${lock?.uploadedAt}); never regress`;
    await updateRun(c, table, run, "SKIPPED", reason, now);
    return { action: "skip", reason };
  }
  let takeover: Promote.Takeover | undefined;
  if (lock?.holder && lock.holder !== me) {
    const running = await isRunning(c, lock.holder);
    if (running && p.onConcurrent === "queue") {
      const reason = `queued behind execution ${executionName(lock.holder)} (onConcurrent: queue)`;
      await updateRun(c, table, run, "QUEUED", reason, now);
      return { action: "wait", reason, waitSeconds: Promote.QUEUE_POLL_SECONDS };
    }
    let stableVersion: string | undefined;
    if (lock.run) {
      const { Item: old } = await c.doc.send(
        new GetCommand({ TableName: table, Key: { pk, sk: lock.run }, ConsistentRead: true }),
      );
      if (old && isShifted(old.status) && typeof old.previousVersion === "string")
        stableVersion = old.previousVersion;
    }
    takeover = {
      execution: lock.holder,
      ledger: { pk, sk: lock.run ?? "" },
      running,
      ...(stableVersion ? { stableVersion } : {}),
    };
  }
  try {
    await c.doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...lockKey,
          holder: me,
          run: sk,
          uploadedAt:
            lock?.uploadedAt && lock.uploadedAt > uploadedAt ? lock.uploadedAt : uploadedAt,
          at: now.toISOString(),
        },
        ConditionExpression: lock?.holder
          ? "#holder = :expected"
          : "attribute_not_exists(sk) OR attribute_not_exists(#holder)",
        ExpressionAttributeNames: { "#holder": "holder" },
        ...(lock?.holder ? { ExpressionAttributeValues: { ":expected": lock.holder } } : {}),
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    // Another upload took the alias in the meantime: look again shortly.
    return { action: "wait", reason: "another promotion took the alias just now", waitSeconds: 1 };
  }
  return {
    action: "run",
    ledger: run,
    function: p.function,
    alias: p.alias,
    bucket: artifact.bucket,
    key: artifact.key,
    versionId: artifact.versionId,
    alarms: p.alarms,
    steps: Promote.steps(p.strategy),
    finalBake: Promote.finalBake(p.strategy),
    approval: p.approval,
    strategy: Promote.describeStrategy(p.strategy),
    ...(takeover ? { takeover } : {}),
  };
}

/** Every version of a function ($LATEST included), following ListVersionsByFunction's pages. */
export async function listVersions(
  c: Pick<Clients, "lambda">,
  functionName: string,
): Promise<Promote.VersionInfo[]> {
  const versions: Promote.VersionInfo[] = [];
  let marker: string | undefined;
  do {
    const page = await c.lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }),
    );
    versions.push(...(page.Versions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return versions;
}

/** The workflow's Resolve task: the existing version with this code, if any. */
export async function resolveVersion(
  c: Pick<Clients, "lambda">,
  functionName: string,
  codeSha256: string,
): Promise<{ version?: string }> {
  const version = Promote.reusableVersion(await listVersions(c, functionName), codeSha256);
  return version ? { version } : {};
}

/** The workflow's Approval task: keeps the task token on the run until an operator answers. */
export async function recordApproval(
  c: Pick<Clients, "doc">,
  table: string,
  p: { token: string; ledger: { pk: string; sk: string } },
  now = new Date(),
): Promise<void> {
  await c.doc.send(
    new UpdateCommand({
      TableName: table,
      Key: p.ledger,
      UpdateExpression: "SET #status = :s, #at = :at, #token = :t, #reason = :r",
      ExpressionAttributeNames: {
        "#status": "status",
        "#at": "at",
        "#token": "approvalToken",
        "#reason": "reason",
      },
      ExpressionAttributeValues: {
        ":s": "AWAITING_APPROVAL",
        ":at": now.toISOString(),
        ":t": p.token,
        ":r": "waiting for `switchyard promote approve <id>` before the final shift",
      },
    }),
  );
}

/**
 * `switchyard promote approve|reject <id>`: answers the approval a promotion waits for. `id` is
 * the execution's name (or ARN) as `switchyard status --flow promote` shows it.
 */
export async function answerApproval(
  c: Pick<Clients, "doc" | "sfn">,
  table: string,
  id: string,
  decision: { approve: true; by: string } | { approve: false; by: string; reason: string },
): Promise<{ execution: string; function?: string; alias?: string; version?: string }> {
  const rows = await listFlow(c.doc, table, Promote.FLOW, 500);
  const row = rows.find(
    (r) =>
      r.status === "AWAITING_APPROVAL" &&
      typeof r.execution === "string" &&
      (r.execution === id || executionName(r.execution) === id),
  );
  if (!row || typeof row.approvalToken !== "string")
    throw new Error(
      `no promotion is waiting for approval with id '${id}'. Run \`switchyard status --flow promote\` to see the ids of those that are (status AWAITING_APPROVAL)`,
    );
  if (decision.approve) {
    await c.sfn.send(
      new SendTaskSuccessCommand({
        taskToken: row.approvalToken,
        output: JSON.stringify({ approvedBy: decision.by }),
      }),
    );
  } else {
    await c.sfn.send(
      new SendTaskFailureCommand({
        taskToken: row.approvalToken,
        error: "Switchyard.Rejected",
        cause: `rejected by ${decision.by}: ${decision.reason}`,
      }),
    );
  }
  return {
    execution: String(row.execution),
    function: row.function as string | undefined,
    alias: row.alias as string | undefined,
    version: row.version as string | undefined,
  };
}

export interface RollbackResult {
  function: string;
  alias: string;
  from: string;
  to: string;
  /** The promotion that was running and was stopped, if any. */
  stopped?: string;
}

/**
 * `switchyard promote rollback --function <name>`: puts the alias back on the version it was on
 * before, with no extra weights. A promotion in progress is stopped and its run recorded as
 * ROLLED_BACK; otherwise the alias goes back to the version before the last promotion (from
 * the ledger, else the newest older published version).
 */
export async function rollback(
  c: PromoteClients,
  table: string,
  settings: Promote.Settings,
  target: { function: string; alias?: string; by: string },
  now = new Date(),
): Promise<RollbackResult> {
  const p = settings.promotions.find(
    (x) => x.function === target.function && (!target.alias || x.alias === target.alias),
  );
  if (!p)
    throw new Error(
      `function '${target.function}'${target.alias ? ` alias '${target.alias}'` : ""} is not promoted by Switchyard (configured: ${
        settings.promotions.map((x) => `${x.function}:${x.alias}`).join(", ") || "none"
      }). Fix: pass --function with one of those`,
    );
  const pk = Promote.keys.alias(p.function, p.alias);
  const reason = `operator rollback by ${target.by} (switchyard promote rollback)`;
  const { Item: lockItem } = await c.doc.send(
    new GetCommand({ TableName: table, Key: { pk, sk: Promote.keys.lock }, ConsistentRead: true }),
  );
  const lock = lockItem ? Promote.Lock.parse(lockItem) : undefined;
  const alias = await c.lambda.send(
    new GetAliasCommand({ FunctionName: p.function, Name: p.alias }),
  );
  const current = alias.FunctionVersion ?? "$LATEST";
  const shifted = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});

  let stopped: string | undefined;
  let to: string | undefined;
  if (lock?.holder && lock.run && (await isRunning(c, lock.holder))) {
    await c.sfn.send(
      new StopExecutionCommand({
        executionArn: lock.holder,
        error: "Switchyard.OperatorRollback",
        cause: reason,
      }),
    );
    stopped = lock.holder;
    const { Item: run } = await c.doc.send(
      new GetCommand({ TableName: table, Key: { pk, sk: lock.run }, ConsistentRead: true }),
    );
    to = typeof run?.previousVersion === "string" ? run.previousVersion : current;
    await updateRun(c, table, { pk, sk: lock.run }, "ROLLED_BACK", reason, now);
    await c.doc
      .send(
        new UpdateCommand({
          TableName: table,
          Key: { pk, sk: Promote.keys.lock },
          UpdateExpression: "REMOVE holder, #run",
          ConditionExpression: "holder = :h",
          ExpressionAttributeNames: { "#run": "run" },
          ExpressionAttributeValues: { ":h": lock.holder },
        }),
      )
      .catch((e) => {
        if (!conditionFailed(e)) throw e;
      });
  } else if (shifted.length > 0) {
    // A split alias with nothing running (e.g. a promotion stopped by hand): back to its base.
    to = current;
  } else {
    const promoted: { version?: string; previousVersion?: string; finishedAt?: string }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await c.doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :run)",
          FilterExpression: "#status = :promoted",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pk": pk, ":run": "run#", ":promoted": "PROMOTED" },
          ExclusiveStartKey: start,
        }),
      );
      promoted.push(...((page.Items ?? []) as typeof promoted));
      start = page.LastEvaluatedKey;
    } while (start);
    promoted.sort((a, b) => (b.finishedAt ?? "").localeCompare(a.finishedAt ?? ""));
    const published = (await listVersions(c, p.function)).map((v) => v.Version ?? "");
    to = Promote.rollbackVersion(current, promoted, published)?.version;
    if (!to)
      throw new Error(
        `${p.function}:${p.alias} is on version ${current} and there is no earlier version to roll back to`,
      );
  }

  await c.lambda.send(
    new UpdateAliasCommand({
      FunctionName: p.function,
      Name: p.alias,
      FunctionVersion: to,
      RoutingConfig: { AdditionalVersionWeights: {} },
      ...(alias.RevisionId ? { RevisionId: alias.RevisionId } : {}),
    }),
  );
  await c.doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk,
        sk: Promote.keys.rollback(now.toISOString()),
        flow: Promote.FLOW,
        at: now.toISOString(),
        status: "ROLLED_BACK",
        reason,
        function: p.function,
        alias: p.alias,
        version: to,
        previousVersion: current,
        ...(stopped ? { execution: stopped } : {}),
        expiresAt: epochSeconds(now, Promote.RETENTION_SECONDS.run),
      },
    }),
  );
  return {
    function: p.function,
    alias: p.alias,
    from: current,
    to,
    ...(stopped ? { stopped } : {}),
  };
}
