import { DescribeServicesCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Deploy, Topology } from "@switchyard/core";
import { afterEach, describe, expect, it } from "vitest";
import { revision } from "../../functions/deploy";
import { awsSdkBinding, bindingTable, resolveBinding } from "../../packages/local/src/bindings";
import { pushImage, RolloutSimulation, seedDeploys } from "../../packages/local/src/flows/deploy";
import {
  LocalStepFunctions,
  type ResourceBinding,
  StatesError,
} from "../../packages/local/src/sfn";
import switchyardConfig from "../../switchyard.config";
import { definition } from "../../workflows/deploy";
import { useEmulator } from "../support/emulator";
import { createLedgerTable } from "../support/ledger";

/**
 * The deploy workflow's own ASL (workflows/deploy.ts), run by aws-local-stepfunctions with its
 * Tasks bound to the emulator's ECS and DynamoDB and to the real DeployRevision handler. Bindings
 * replaced per test produce what the emulator cannot: throttling, a rollout that never finishes,
 * a deployment replaced by another.
 */
const { clients } = useEmulator();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:deploy";
const REVISION_FN = "arn:aws:lambda:us-east-1:123456789012:function:DeployRevision";
const TABLE = "ledger";
const DESCRIBE = "arn:aws:states:::aws-sdk:ecs:describeServices";
const UPDATE = "arn:aws:states:::aws-sdk:ecs:updateService";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

const config = Config.load(switchyardConfig, "local");
const asl = definition({
  topology: Topology.build(config),
  resources: { Ledger: { name: TABLE }, DeployRevision: { arn: REVISION_FN } },
});

/** Emulator state for one deploy: ledger table, ECR image, ECS service; returns the execution input. */
async function prepare(tag = "release-9", overrides: Partial<Deploy.WorkflowInput> = {}) {
  const c = clients();
  await createLedgerTable(c, TABLE);
  await seedDeploys(c, config.deploys, "us-east-1", "123456789012");
  const digest = await pushImage(c.ecr, "web", tag);
  const ledger = { pk: Deploy.keys.service("demo", "web"), sk: Deploy.keys.run("web", digest) };
  await c.doc.send(new PutCommand({ TableName: TABLE, Item: { ...ledger, status: "STARTING" } }));
  const input: Deploy.WorkflowInput = {
    ledger,
    repository: "web",
    tag,
    digest,
    image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${digest}`,
    pushedAt: new Date().toISOString(),
    cluster: "demo",
    service: "web",
    containers: ["app"],
    roles: ["demo-web-execution"],
    pollSeconds: 15,
    maxPolls: 10,
    ...overrides,
  };
  return input;
}

/** Runs one execution with the emulator-backed bindings, `overrides` replacing some. */
async function execute(
  input: Deploy.WorkflowInput,
  overrides: Record<string, ResourceBinding> = {},
) {
  const c = clients();
  const table = bindingTable(c, async (_fn, payload) => revision(payload));
  table.exact.set(DESCRIBE, new RolloutSimulation(c, () => undefined).binding());
  for (const [k, v] of Object.entries(overrides)) table.exact.set(k, v);
  const sfn = new LocalStepFunctions({ bindings: resolveBinding(table), timeScale: 0.001 });
  sfn.register({ name: "deploy", arn: SM, definition: asl });
  const execution = sfn.start(SM, JSON.stringify(input), "test");
  await execution.done;
  const { Item } = await c.doc.send(new GetCommand({ TableName: TABLE, Key: input.ledger }));
  const states = (type: string) =>
    execution.history.filter((h) => h.type === type).map((h) => h.state);
  return { execution, record: Item, states };
}

/** A binding that fails `times` times with `error`, then calls the real one. */
const failing = (times: number, error: string, real: ResourceBinding): ResourceBinding => {
  let calls = 0;
  return async (input, ctx) => {
    calls += 1;
    if (calls <= times) throw new StatesError(error, `${error} (injected, call ${calls})`);
    return real(input, ctx);
  };
};

const currentTaskDefinition = async () => {
  const { services } = await clients().ecs.send(
    new DescribeServicesCommand({ cluster: "demo", services: ["web"] }),
  );
  return services?.[0]?.taskDefinition;
};

describe("deploy workflow (ASL)", () => {
  it("registers the pinned revision, updates the service, follows the rollout to COMPLETED", async () => {
    // Prepare
    const input = await prepare();

    // Act
    const { execution, record, states } = await execute(input);

    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(states("StateEntered")).toEqual(
      expect.arrayContaining([
        "RegisterRevision",
        "UpdateService",
        "ObserveService",
        "RecordCompleted",
      ]),
    );
    expect(record).toMatchObject({ status: "COMPLETED", revision: 2 });
    expect(await currentTaskDefinition()).toBe(record?.taskDefinitionArn);
  });

  it.each([
    { error: "Ecs.ThrottlingException", resource: UPDATE, state: "UpdateService" },
    { error: "Ecs.ServerException", resource: UPDATE, state: "UpdateService" },
    { error: "Ecs.ThrottlingException", resource: DESCRIBE, state: "DescribeService" },
  ])("retries $error in $state, then completes", async ({ error, resource, state }) => {
    // Prepare
    const input = await prepare();
    const c = clients();
    const real =
      resource === DESCRIBE
        ? new RolloutSimulation(c, () => undefined).binding()
        : awsSdkBinding(c);

    // Act
    const { execution, record, states } = await execute(input, {
      [resource]: failing(2, error, real),
    });

    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(states("StateRetried").filter((s) => s === state)).toHaveLength(2);
    expect(record?.status).toBe("COMPLETED");
  });

  it("does not retry other errors: AccessDenied is caught and recorded as ERROR, the service untouched", async () => {
    // Prepare
    const input = await prepare();
    const before = await currentTaskDefinition();

    // Act
    const { execution, record, states } = await execute(input, {
      [UPDATE]: failing(1, "Ecs.AccessDeniedException", awsSdkBinding(clients())),
    });

    // Assess
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("Deploy.ERROR");
    expect(states("StateRetried")).toEqual([]);
    expect(record?.status).toBe("ERROR");
    expect(record?.reason).toMatch(/^Ecs\.AccessDeniedException: /);
    expect(await currentTaskDefinition()).toBe(before);
  });

  it("records ERROR when throttling outlasts the retries", async () => {
    // Prepare
    const input = await prepare();

    // Act
    const { execution, record, states } = await execute(input, {
      [UPDATE]: failing(100, "Ecs.ThrottlingException", awsSdkBinding(clients())),
    });

    // Assess
    expect(execution.status).toBe("FAILED");
    expect(states("StateRetried").filter((s) => s === "UpdateService")).toHaveLength(6);
    expect(record?.status).toBe("ERROR");
  });

  it("catches a missing container from RegisterRevision and records it with the fix", async () => {
    // Prepare
    const input = await prepare("release-9", { containers: ["api"] });

    // Act
    const { execution, record } = await execute(input);

    // Assess
    expect(execution.status).toBe("FAILED");
    expect(record?.status).toBe("ERROR");
    expect(record?.reason).toMatch(
      /^ContainerNotFound: .*no container named 'api' \(it has 'app', 'log-router'\)/,
    );
    expect(
      (await clients().ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: "web" })))
        .taskDefinitionArns,
    ).toHaveLength(1);
  });

  it("refuses a task definition whose role the config does not list", async () => {
    // Prepare
    const input = await prepare("release-9", { roles: [] });

    // Act
    const { record } = await execute(input);

    // Assess
    expect(record?.status).toBe("ERROR");
    expect(record?.reason).toMatch(/^RoleNotAllowed: .*Fix: add 'demo-web-execution' to/);
  });

  it("records TIMED_OUT when the rollout stays IN_PROGRESS past maxPolls", async () => {
    // Prepare: ECS reports the new deployment as in progress forever.
    const input = await prepare("release-9", { maxPolls: 3 });
    const sdk = awsSdkBinding(clients());
    const stuck: ResourceBinding = async (i, ctx) => {
      const out = (await sdk(i, ctx)) as {
        Services: { TaskDefinition: string; Deployments: unknown[] }[];
      };
      for (const s of out.Services)
        s.Deployments = [
          { Status: "PRIMARY", TaskDefinition: s.TaskDefinition, RolloutState: "IN_PROGRESS" },
        ];
      return out as never;
    };

    // Act
    const { execution, record, states } = await execute(input, { [DESCRIBE]: stuck });

    // Assess
    expect(execution.error).toBe("Deploy.TIMED_OUT");
    expect(states("StateEntered").filter((s) => s === "ObserveService")).toHaveLength(4);
    expect(record).toMatchObject({ status: "TIMED_OUT" });
  });

  it("records SUPERSEDED when another deployment replaced this one", async () => {
    // Prepare: by the first poll, ECS runs only a deployment of some other revision.
    const input = await prepare();
    const sdk = awsSdkBinding(clients());
    let calls = 0;
    const replaced: ResourceBinding = async (i, ctx) => {
      const out = (await sdk(i, ctx)) as { Services: { Deployments: unknown[] }[] };
      calls += 1;
      if (calls > 1)
        for (const s of out.Services)
          s.Deployments = [
            {
              Status: "PRIMARY",
              TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:99",
              RolloutState: "IN_PROGRESS",
            },
          ];
      return out as never;
    };

    // Act
    const { execution, record } = await execute(input, { [DESCRIBE]: replaced });

    // Assess
    expect(execution.cause).toBeUndefined();
    expect(execution.status).toBe("SUCCEEDED");
    expect(record?.status).toBe("SUPERSEDED");
  });

  it("records FAILED with the revision the circuit breaker rolled back to", async () => {
    // Prepare
    const input = await prepare("release-broken-2");
    const before = await currentTaskDefinition();

    // Act
    const { execution, record } = await execute(input);

    // Assess
    expect(execution.error).toBe("Deploy.FAILED");
    expect(record).toMatchObject({ status: "FAILED", rolledBackTo: before });
    expect(await currentTaskDefinition()).toBe(before);
  });
});
