import {
  CreateJobCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  StartJobRunCommand,
} from "@aws-sdk/client-glue";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Ingest, Topology } from "@switchyard/core";
import { afterEach, describe, expect, it } from "vitest";
import { bindingTable, resolveBinding } from "../../packages/local/src/bindings";
import { glueRunsProgressWhenPolled } from "../../packages/local/src/flows/ingest";
import {
  LocalStepFunctions,
  type ResourceBinding,
  StatesError,
} from "../../packages/local/src/sfn";
import switchyardConfig from "../../switchyard.config";
import { definition } from "../../workflows/ingest";
import { useEmulator } from "../support/emulator";
import { createLedgerTable } from "../support/ledger";

/**
 * The ingest workflow's own ASL (workflows/ingest.ts), run by aws-local-stepfunctions with
 * `glue:startJobRun.sync` bound to moto's Glue (which really refuses a run beyond
 * MaxConcurrentRuns) and the refresh task bound to a recorder; the Snowflake side has its own
 * tests and the e2e test runs it for real.
 */
const { clients, endpoint } = useEmulator();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:ingest";
const REFRESH_FN = "arn:aws:lambda:us-east-1:123456789012:function:IngestRefresh";
const TABLE = "ledger";
const GLUE_SYNC = "arn:aws:states:::glue:startJobRun.sync";

const config = Config.load(switchyardConfig, "local");
const asl = definition({
  topology: Topology.build(config),
  resources: { Ledger: { name: TABLE }, IngestRefresh: { arn: REFRESH_FN } },
});

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function prepare(maxConcurrentRuns = 2): Promise<Ingest.WorkflowInput> {
  const c = clients();
  await glueRunsProgressWhenPolled(endpoint);
  await createLedgerTable(c, TABLE);
  for (const job of ["orders-clean", "orders-curate"])
    await c.glue.send(
      new CreateJobCommand({
        Name: job,
        Role: "arn:aws:iam::123456789012:role/glue",
        Command: { Name: "glueetl", ScriptLocation: `s3://scripts/${job}.py` },
        ExecutionProperty: { MaxConcurrentRuns: maxConcurrentRuns },
      }),
    );
  const ledger = { pk: Ingest.keys.dataset("orders"), sk: Ingest.keys.batch("h1") };
  await c.doc.send(new PutCommand({ TableName: TABLE, Item: { ...ledger, status: "STARTED" } }));
  return {
    ledger,
    dataset: "orders",
    batch: "h1",
    manifest: "s3://manifests/manifests/orders/h1.json",
    files: 3,
    table: "ANALYTICS.RAW.ORDERS_EXT",
    partitions: ["orders/2026/11/23/"],
  };
}

async function execute(
  input: Ingest.WorkflowInput,
  o: {
    refresh?: (payload: unknown) => Promise<unknown>;
    glue?: (real: ResourceBinding) => ResourceBinding;
  } = {},
) {
  const c = clients();
  const refreshed: unknown[] = [];
  const table = bindingTable(c, async (_fn, payload) => {
    refreshed.push(payload);
    return o.refresh
      ? o.refresh(payload)
      : { statements: 1, registeredNew: 3, registeredUpdate: 0, unregistered: 0 };
  });
  const real = table.fallback(GLUE_SYNC);
  if (o.glue && real) table.exact.set(GLUE_SYNC, o.glue(real));
  const sfn = new LocalStepFunctions({ bindings: resolveBinding(table), timeScale: 0.001 });
  sfn.register({ name: "ingest", arn: SM, definition: asl });
  const execution = sfn.start(SM, JSON.stringify(input), "test");
  await execution.done;
  const { Item } = await c.doc.send(new GetCommand({ TableName: TABLE, Key: input.ledger }));
  const states = (type: string) =>
    execution.history.filter((h) => h.type === type).map((h) => h.state);
  return { execution, record: Item, refreshed, states };
}

const jobRuns = async (job: string) =>
  (await clients().glue.send(new GetJobRunsCommand({ JobName: job }))).JobRuns ?? [];

describe("ingest workflow (ASL)", () => {
  it("runs the dataset's Glue jobs in order with the manifest, then the refresh, and records INGESTED", async () => {
    // Prepare
    const input = await prepare();

    // Act
    const { execution, record, refreshed, states } = await execute(input);

    // Assess
    expect(execution.cause).toBeUndefined();
    expect(execution.status).toBe("SUCCEEDED");
    const entered = states("StateEntered");
    expect(entered.indexOf("OrdersJob0")).toBeLessThan(entered.indexOf("OrdersJob1"));
    expect(entered.indexOf("OrdersJob1")).toBeLessThan(entered.indexOf("Refresh"));
    const [clean] = await jobRuns("orders-clean");
    const [curate] = await jobRuns("orders-curate");
    expect(clean?.Arguments).toMatchObject({
      "--manifest": input.manifest,
      "--dataset": "orders",
      "--batch": "h1",
    });
    expect(record).toMatchObject({
      status: "INGESTED",
      glueRuns: { "orders-clean": clean?.Id, "orders-curate": curate?.Id },
    });
    expect(refreshed).toEqual([
      { ledger: input.ledger, table: input.table, partitions: input.partitions },
    ]);
  });

  it("retries ConcurrentRunsExceeded from Glue itself and starts exactly one run of its own", async () => {
    // Prepare: Glue allows one run of orders-clean, and another run holds it.
    const input = await prepare(1);
    const { JobRunId: other = "" } = await clients().glue.send(
      new StartJobRunCommand({ JobName: "orders-clean" }),
    );
    let refused = 0;
    const glue =
      (real: ResourceBinding): ResourceBinding =>
      async (i, ctx) => {
        try {
          return await real(i, ctx);
        } catch (error) {
          if ((error as Error).name === "Glue.ConcurrentRunsExceededException" && ++refused === 2) {
            // The other run moves on (moto advances a run each time it is read): the slot frees up.
            for (let k = 0; k < 3; k++)
              await clients().glue.send(
                new GetJobRunCommand({ JobName: "orders-clean", RunId: other }),
              );
          }
          throw error;
        }
      };

    // Act
    const { execution, states } = await execute(input, { glue });

    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(refused).toBe(2);
    expect(states("StateRetried").filter((s) => s === "OrdersJob0")).toHaveLength(2);
    const runs = await jobRuns("orders-clean");
    expect(runs.map((r) => r.Id).filter((id) => id !== other)).toHaveLength(1);
  });

  it("stops at a failing Glue job and records it with its error; later jobs and the refresh never run", async () => {
    // Prepare: the emulator cannot make a Glue run fail, so the binding reports the failure as Step Functions would.
    const input = await prepare();
    const glue =
      (real: ResourceBinding): ResourceBinding =>
      async (i, ctx) => {
        if ((i as { JobName: string }).JobName === "orders-clean")
          throw new StatesError(
            "States.TaskFailed",
            JSON.stringify({
              JobName: "orders-clean",
              JobRunState: "FAILED",
              ErrorMessage: "AnalysisException: column total not found",
            }),
          );
        return real(i, ctx);
      };

    // Act
    const { execution, record, refreshed } = await execute(input, { glue });

    // Assess
    expect(execution.error).toBe("Ingest.GLUE_FAILED");
    expect(record).toMatchObject({ status: "GLUE_FAILED", failedJob: "orders-clean" });
    expect(record?.reason).toMatch(
      /^States\.TaskFailed: .*AnalysisException: column total not found/,
    );
    expect(await jobRuns("orders-curate")).toEqual([]);
    expect(refreshed).toEqual([]);
  });

  it("records a missing Glue job as GLUE_FAILED without retrying it", async () => {
    // Prepare: no jobs exist.
    const input = await prepare();
    const glue =
      (real: ResourceBinding): ResourceBinding =>
      async (i, ctx) =>
        real({ ...(i as object), JobName: "orders-missing" } as never, ctx);

    // Act
    const { record, states } = await execute(input, { glue });

    // Assess
    expect(record?.status).toBe("GLUE_FAILED");
    expect(record?.reason).toMatch(/^Glue\.EntityNotFoundException/);
    expect(states("StateRetried")).toEqual([]);
  });

  it.each([
    { error: "SnowflakeUnavailable", retried: 3, status: "REFRESH_FAILED" },
    { error: "SnowflakeAuthError", retried: 0, status: "REFRESH_FAILED" },
  ])(
    "retries the refresh on $error only when it is transient ($retried retries)",
    async ({ error, retried, status }) => {
      // Prepare
      const input = await prepare();
      const refresh = async () => {
        throw Object.assign(new Error(`${error} (injected)`), { name: error });
      };

      // Act
      const { record, states } = await execute(input, { refresh });

      // Assess
      expect(states("StateRetried").filter((s) => s === "Refresh")).toHaveLength(retried);
      expect(record).toMatchObject({
        status,
        reason: expect.stringMatching(new RegExp(`^${error}: `)),
      });
    },
  );
});
