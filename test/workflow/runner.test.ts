import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterEach, describe, expect, it } from "vitest";
import { bindingTable, resolveBinding } from "../../packages/local/src/bindings";
import { LocalStepFunctions, StatesError } from "../../packages/local/src/sfn";
import { useEmulator } from "../support/emulator";

/**
 * The local Step Functions runner: ASL executed by aws-local-stepfunctions, Task
 * resources bound to real SDK calls against the emulator, errors named as AWS names them.
 */
const { clients } = useEmulator();
const ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:test";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

function runner(
  exact: Record<
    string,
    ReturnType<typeof resolveBinding> extends (r: string) => infer B ? NonNullable<B> : never
  > = {},
) {
  const table = bindingTable(clients(), async () => ({}));
  for (const [k, v] of Object.entries(exact)) table.exact.set(k, v);
  return new LocalStepFunctions({ bindings: resolveBinding(table), timeScale: 0.001 });
}

const ledgerTable = () =>
  clients().dynamo.send(
    new CreateTableCommand({
      TableName: "ledger",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );

describe("local Step Functions runner", () => {
  it("runs aws-sdk Tasks against the emulator with PascalCase parameters and results", async () => {
    // Prepare
    await ledgerTable();
    const sfn = runner();
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Put",
        States: {
          Put: {
            Type: "Task",
            Resource: "arn:aws:states:::aws-sdk:dynamodb:putItem",
            Parameters: { TableName: "ledger", Item: { pk: { "S.$": "$.id" } } },
            ResultPath: null,
            Next: "Get",
          },
          Get: {
            Type: "Task",
            Resource: "arn:aws:states:::aws-sdk:dynamodb:getItem",
            Parameters: { TableName: "ledger", Key: { pk: { "S.$": "$.id" } } },
            OutputPath: "$.Item",
            End: true,
          },
        },
      },
    });
    // Act
    const execution = sfn.start(ARN, JSON.stringify({ id: "abc" }));
    await execution.done;
    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "null")).toEqual({ pk: { S: "abc" } });
  });

  it("names SDK errors <Service>.<Name>Exception so Catch can route them", async () => {
    // Prepare
    const sfn = runner();
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Describe",
        States: {
          Describe: {
            Type: "Task",
            Resource: "arn:aws:states:::aws-sdk:ecs:describeServices",
            Parameters: { Cluster: "missing", Services: ["web"] },
            Catch: [
              {
                ErrorEquals: ["Ecs.ClusterNotFoundException"],
                ResultPath: "$.error",
                Next: "Recorded",
              },
            ],
            End: true,
          },
          Recorded: { Type: "Pass", End: true },
        },
      },
    });
    // Act
    const execution = sfn.start(ARN, "{}");
    await execution.done;
    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "{}").error.Error).toBe("Ecs.ClusterNotFoundException");
  });

  it("retries the errors a Retry names and fails the execution when attempts run out", async () => {
    // Prepare
    let calls = 0;
    const flaky = "arn:aws:states:::aws-sdk:ecs:updateService";
    const sfn = runner({
      [flaky]: async () => {
        calls++;
        throw new StatesError("Ecs.ThrottlingException", "Rate exceeded");
      },
    });
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Update",
        States: {
          Update: {
            Type: "Task",
            Resource: flaky,
            Retry: [
              {
                ErrorEquals: ["Ecs.ThrottlingException"],
                MaxAttempts: 2,
                IntervalSeconds: 1,
                BackoffRate: 2,
              },
            ],
            End: true,
          },
        },
      },
    });
    // Act
    const execution = sfn.start(ARN, "{}");
    await execution.done;
    // Assess
    expect(calls).toBe(3);
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("Ecs.ThrottlingException");
    expect(execution.history.filter((h) => h.type === "StateRetried")).toHaveLength(2);
  });

  it("serves the Step Functions API: named executions are unique, task tokens resume them", async () => {
    // Prepare
    const sfn = runner({ "arn:aws:states:::lambda:invoke.waitForTaskToken": async () => null });
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Approve",
        States: {
          Approve: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
            Parameters: { FunctionName: "notify", "Payload.$": "$" },
            End: true,
          },
        },
      },
    });
    const server = await sfn.serve();
    closers.push(server.close);
    const client = new SFNClient({ endpoint: server.endpoint, region: "us-east-1" });
    // Act
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: ARN, name: "svc-abc", input: "{}" }),
    );
    const duplicate = await client
      .send(new StartExecutionCommand({ stateMachineArn: ARN, name: "svc-abc", input: "{}" }))
      .catch((error: unknown) => error);
    const waiting = await client.send(new DescribeExecutionCommand({ executionArn }));
    const token = [...(sfn as unknown as { tasks: Map<string, unknown> }).tasks.keys()][0] ?? "";
    await client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
    );
    await sfn.idle();
    const finished = await client.send(new DescribeExecutionCommand({ executionArn }));
    // Assess
    expect(duplicate).toMatchObject({ name: "ExecutionAlreadyExists" });
    expect(waiting.status).toBe("RUNNING");
    expect(finished.status).toBe("SUCCEEDED");
    expect(JSON.parse(finished.output ?? "{}")).toEqual({ approved: true });
  });

  it("gives a callback task's Parameters `$$.Task.Token`, and that token resumes the execution", async () => {
    // Prepare
    let handed: string | undefined;
    const sfn = runner({
      "arn:aws:states:::lambda:invoke.waitForTaskToken": async (input) => {
        handed = (input as { Payload: { token: string } }).Payload.token;
        return null;
      },
    });
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Approve",
        States: {
          Approve: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
            Parameters: { FunctionName: "notify", Payload: { "token.$": "$$.Task.Token" } },
            End: true,
          },
        },
      },
    });
    // Act
    const execution = sfn.start(ARN, "{}");
    for (let i = 0; i < 100 && !handed; i++) await new Promise((r) => setTimeout(r, 10));
    sfn.sendTaskSuccess(handed ?? "", JSON.stringify({ approvedBy: "test" }));
    await execution.done;
    // Assess
    expect(handed).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(execution.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "null")).toEqual({ approvedBy: "test" });
  });

  it("refuses an invalid definition when it is registered, as CreateStateMachine does", () => {
    // Prepare
    const sfn = runner();
    const processor = { StartAt: "Step", States: { Step: { Type: "Pass", End: true } } };
    // Act
    const register = () =>
      sfn.register({
        name: "test",
        arn: ARN,
        definition: {
          StartAt: "A",
          States: {
            A: { Type: "Map", ItemsPath: "$.a", ItemProcessor: processor, Next: "B" },
            B: { Type: "Map", ItemsPath: "$.b", ItemProcessor: processor, End: true },
          },
        },
      });
    // Assess
    expect(register).toThrow(/invalid definition: .*DUPLICATE_STATE_NAMES.*Step/s);
  });

  it("stops a running execution with StopExecution, which then stays ABORTED", async () => {
    // Prepare
    const sfn = runner();
    sfn.register({
      name: "test",
      arn: ARN,
      definition: {
        StartAt: "Bake",
        States: { Bake: { Type: "Wait", Seconds: 3600, Next: "Done" }, Done: { Type: "Succeed" } },
      },
    });
    const server = await sfn.serve();
    closers.push(server.close);
    const client = new SFNClient({ endpoint: server.endpoint, region: "us-east-1" });
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: ARN, name: "long", input: "{}" }),
    );
    // Act
    await client.send(new StopExecutionCommand({ executionArn }));
    await sfn.idle(5_000);
    const stopped = await client.send(new DescribeExecutionCommand({ executionArn }));
    // Assess
    expect(stopped.status).toBe("ABORTED");
    expect(stopped.stopDate).toBeInstanceOf(Date);
  });
});
