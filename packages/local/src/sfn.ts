import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// aws-local-stepfunctions targets Node 22 and uses Promise.withResolvers, which Node 20 lacks.
// The deployed Lambda runtime is nodejs22.x; this keeps the local runtime working on Node 20.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const { StateMachine, ExecutionError } = await import("aws-local-stepfunctions");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Binds a Task state's `Resource` to local code. Throw an Error whose `name` is the States error name. */
export type ResourceBinding = (
  input: Json,
  ctx: { resource: string; state: string; execution: ExecutionRecord; taskToken?: string },
) => Promise<Json>;

export interface StateMachineEntry {
  name: string;
  arn: string;
  definition: Record<string, unknown>;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  /** Names of the states entered, in order, with retries and catches: the execution history. */
  history: { type: string; state?: string; error?: string; at: Date }[];
  done: Promise<void>;
}

/** A States error: `name` is what Retry/Catch `ErrorEquals` compares. */
export class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface PendingTask {
  resolve: (output: Json) => void;
  reject: (error: Error) => void;
  execution: ExecutionRecord;
}

export interface LocalStepFunctionsOptions {
  /** Resource ARN (exact, or prefix ending in `:`/`*`) → binding. Unbound resources fail the execution clearly. */
  bindings: (resource: string) => ResourceBinding | undefined;
  /** Scales `Wait` states and retry intervals: 1 = real time, 0.01 = 100× faster. */
  timeScale?: number;
  log?: (line: string) => void;
}

/** The local-only resource that stands in for a `Wait` with `SecondsPath` under a time scale. */
const WAIT_RESOURCE = "arn:switchyard:local:::wait";

type StateMap = Record<string, Record<string, unknown>>;

/** Calls `fn` for every state, with the map that holds it, including states inside Parallel branches and Maps. */
function forEachState(
  definition: Record<string, unknown>,
  fn: (name: string, state: Record<string, unknown>, states: StateMap) => void,
): void {
  const states = (definition.States ?? {}) as StateMap;
  for (const [name, state] of Object.entries(states)) {
    fn(name, state, states);
    if (state.Type === "Parallel")
      for (const b of (state.Branches ?? []) as Record<string, unknown>[]) forEachState(b, fn);
    if (state.Type === "Map") {
      const proc = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
      if (proc) forEachState(proc, fn);
    }
  }
}

/**
 * A copy of `definition` in which each `Wait` state with `SecondsPath` becomes a Task that
 * sleeps the scaled time and passes its input through (aws-local-stepfunctions can only
 * override fixed waits by state name). Only used when `timeScale` is not 1.
 */
function scaledWaits(definition: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(definition);
  forEachState(copy, (name, state, states) => {
    if (state.Type !== "Wait" || typeof state.SecondsPath !== "string") return;
    const { SecondsPath, Type: _type, Comment: _comment, ...rest } = state;
    states[name] = {
      ...rest,
      Type: "Task",
      Resource: WAIT_RESOURCE,
      Parameters: { "seconds.$": SecondsPath },
      ResultPath: null,
    };
  });
  return copy;
}

/** Every state of a definition by name, nested ones included. */
function collectStates(definition: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const into = new Map<string, Record<string, unknown>>();
  forEachState(definition, (name, state) => into.set(name, state));
  return into;
}

/**
 * Runs Step Functions executions locally from their ASL with aws-local-stepfunctions.
 * Task resources are bound to real SDK calls against the emulator, or to handlers,
 * by `bindings`. Execution names are unique per state machine, as in AWS.
 */
export class LocalStepFunctions {
  readonly machines = new Map<string, StateMachineEntry>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly tasks = new Map<string, PendingTask>();
  private readonly aborts = new Map<string, () => void>();

  constructor(private readonly options: LocalStepFunctionsOptions) {}

  /** Registers a state machine; an invalid definition is refused here, as CreateStateMachine does. */
  register(entry: StateMachineEntry): void {
    try {
      new StateMachine(entry.definition as never, { validationOptions: { checkArn: false } });
    } catch (error) {
      throw new StatesError(
        "InvalidDefinition",
        `State machine ${entry.name}: invalid definition: ${(error as Error).message}`,
      );
    }
    this.machines.set(entry.arn, entry);
  }

  private machine(arn: string): StateMachineEntry {
    const m = this.machines.get(arn);
    if (!m)
      throw new StatesError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  start(
    stateMachineArn: string,
    input: string | undefined,
    name: string = randomUUID(),
  ): ExecutionRecord {
    const machine = this.machine(stateMachineArn);
    const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      throw new StatesError(
        "ExecutionAlreadyExists",
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      status: "RUNNING",
      input: input ?? "{}",
      startDate: new Date(),
      history: [],
      done: Promise.resolve(),
    };
    this.executions.set(executionArn, record);
    record.done = this.run(machine, record);
    return record;
  }

  private async run(machine: StateMachineEntry, record: ExecutionRecord): Promise<void> {
    const scale = this.options.timeScale ?? 1;
    const definition = scale === 1 ? machine.definition : scaledWaits(machine.definition);
    const states = collectStates(definition);
    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number[]> = {};
    // `$$.Task.Token`: made when a task's Parameters read it, then taken by that task's handler,
    // which runs right after. (One pending token per execution: no concurrent callback tasks.)
    let pendingToken: string | undefined;
    const newToken = (stateName: string) =>
      Buffer.from(`${record.executionArn}#${stateName}#${randomUUID()}`).toString("base64url");
    const currentState = () => record.history.findLast((h) => h.type === "StateEntered")?.state;
    const tokenFor = () => {
      pendingToken ??= newToken(currentState() ?? "task");
      return pendingToken;
    };
    const takeToken = (stateName: string) => {
      const token = pendingToken ?? newToken(stateName);
      pendingToken = undefined;
      return token;
    };
    for (const [stateName, state] of states) {
      if (state.Type === "Task" && state.Resource === WAIT_RESOURCE) {
        taskResourceLocalHandlers[stateName] = async (input: Json) => {
          const seconds = Number((input as { seconds?: unknown } | null)?.seconds ?? 0);
          await new Promise((r) => setTimeout(r, Math.round(seconds * 1000 * scale)));
          return null;
        };
        continue;
      }
      if (state.Type === "Task") {
        const resource = String(state.Resource);
        taskResourceLocalHandlers[stateName] = async (input: Json) => {
          const binding = this.options.bindings(resource);
          if (!binding)
            throw new StatesError(
              "States.Runtime",
              `No local binding for resource ${resource} (state ${stateName})`,
            );
          if (resource.endsWith(".waitForTaskToken")) {
            // The token `$$.Task.Token` handed out while this state's Parameters were built.
            const taskToken = takeToken(stateName);
            const waiting = new Promise<Json>((resolve, reject) =>
              this.tasks.set(taskToken, { resolve, reject, execution: record }),
            );
            await binding(input, { resource, state: stateName, execution: record, taskToken });
            return waiting;
          }
          return binding(input, { resource, state: stateName, execution: record });
        };
      }
      if (scale !== 1 && state.Type === "Wait" && typeof state.Seconds === "number") {
        waitTimeOverrides[stateName] = Math.round(state.Seconds * 1000 * scale);
      }
      if (scale !== 1 && Array.isArray(state.Retry)) {
        retryIntervalOverrides[stateName] = (state.Retry as Record<string, number>[]).flatMap(
          (r) => {
            const attempts = r.MaxAttempts ?? 3;
            return Array.from({ length: attempts }, (_, i) =>
              Math.round((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** i * 1000 * scale),
            );
          },
        );
      }
    }
    const sm = new StateMachine(definition as never, {
      validationOptions: { checkArn: false },
    });
    const execution = sm.run(JSON.parse(record.input) as never, {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as never,
        waitTimeOverrides,
        retryIntervalOverrides,
      },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          StartTime: record.startDate.toISOString(),
          Input: JSON.parse(record.input),
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        // aws-local-stepfunctions leaves `$$.State` out. The library copies this object's
        // properties once per execution, so live getters on the nested object stand in: the
        // time a path is read inside a state is (to the millisecond) when it was entered.
        State: {
          get EnteredTime() {
            return new Date().toISOString();
          },
          get Name() {
            return currentState();
          },
        },
        Task: {
          get Token() {
            return tokenFor();
          },
        },
      } as never,
    });
    this.aborts.set(record.executionArn, execution.abort);
    const logs = (async () => {
      for await (const e of execution.eventLogs) {
        const ev = e as { type: string; state?: { name: string }; Error?: string; error?: string };
        record.history.push({
          type: ev.type,
          state: ev.state?.name,
          error: ev.Error ?? ev.error,
          at: new Date(),
        });
      }
    })().catch(() => undefined);
    try {
      const output = await execution.result;
      // StopExecution may have ended it meanwhile; a stopped execution stays ABORTED.
      if ((record.status as ExecutionRecord["status"]) === "ABORTED") return;
      record.status = "SUCCEEDED";
      record.output = JSON.stringify(output ?? null);
    } catch (error) {
      if ((record.status as ExecutionRecord["status"]) === "ABORTED") return;
      record.status = "FAILED";
      const e = error as Error & { cause?: { name?: string; message?: string } };
      if (error instanceof ExecutionError && e.cause) {
        record.error = e.cause.name ?? "States.TaskFailed";
        record.cause = e.cause.message ?? "";
      } else {
        record.error = e.name ?? "Error";
        record.cause = e.message;
      }
      if (record.error === "ExecutionTimeoutError" || e.name === "ExecutionTimeoutError")
        record.status = "TIMED_OUT";
    } finally {
      record.stopDate ??= new Date();
      this.aborts.delete(record.executionArn);
      await logs;
      this.options.log?.(
        `[sfn] ${machine.name}/${record.name} ${record.status}${record.error ? ` (${record.error}: ${record.cause})` : ""}`,
      );
    }
  }

  sendTaskSuccess(taskToken: string, output: string): void {
    const task = this.takeTask(taskToken);
    task.resolve(JSON.parse(output) as Json);
  }

  sendTaskFailure(taskToken: string, error = "States.TaskFailed", cause = ""): void {
    const task = this.takeTask(taskToken);
    task.reject(new StatesError(error, cause));
  }

  private takeTask(token: string): PendingTask {
    const task = this.tasks.get(token);
    if (!task) throw new StatesError("TaskDoesNotExist", "Task Timed Out or does not exist");
    this.tasks.delete(token);
    return task;
  }

  /** Waits for every running execution to finish (or `timeoutMs`). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...this.executions.values()].filter((e) => e.status === "RUNNING");
      if (running.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`${running.length} execution(s) still running after ${timeoutMs} ms`);
      await Promise.race([
        Promise.all(running.map((r) => r.done)),
        new Promise((r) => setTimeout(r, 100)),
      ]);
    }
  }

  /** Serves the Step Functions JSON protocol so SDK clients (handlers, CLI) reach this runner. */
  async serve(port = 0): Promise<{ endpoint: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const address = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${address.port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  private execution(arn: string): ExecutionRecord {
    const e = this.executions.get(arn);
    if (!e) throw new StatesError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return e;
  }

  private describe(e: ExecutionRecord) {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate.getTime() / 1000,
      ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error, cause: e.cause } : {}),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "").replace("AWSStepFunctions.", "");
    const body = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {}) as {
      stateMachineArn: string;
      executionArn: string;
      taskToken: string;
      output: string;
      input?: string;
      name?: string;
      statusFilter?: string;
      error?: string;
      cause?: string;
    };
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(payload));
    };
    try {
      switch (target) {
        case "StartExecution": {
          const e = this.start(body.stateMachineArn, body.input, body.name || undefined);
          return reply(200, {
            executionArn: e.executionArn,
            startDate: e.startDate.getTime() / 1000,
          });
        }
        case "DescribeExecution": {
          const e = this.execution(body.executionArn);
          return reply(200, this.describe(e));
        }
        case "ListExecutions": {
          const list = [...this.executions.values()]
            .filter(
              (e) =>
                e.stateMachineArn === body.stateMachineArn &&
                (!body.statusFilter || e.status === body.statusFilter),
            )
            .map((e) => this.describe(e));
          return reply(200, { executions: list });
        }
        case "StopExecution": {
          const e = this.execution(body.executionArn);
          if (e.status === "RUNNING") {
            e.status = "ABORTED";
            e.stopDate = new Date();
            this.aborts.get(e.executionArn)?.();
          }
          return reply(200, { stopDate: (e.stopDate ?? new Date()).getTime() / 1000 });
        }
        case "SendTaskSuccess":
          this.sendTaskSuccess(body.taskToken, body.output);
          return reply(200, {});
        case "SendTaskFailure":
          this.sendTaskFailure(body.taskToken, body.error, body.cause);
          return reply(200, {});
        case "SendTaskHeartbeat":
          if (!this.tasks.has(body.taskToken))
            throw new StatesError("TaskDoesNotExist", "Task does not exist");
          return reply(200, {});
        case "GetExecutionHistory": {
          const e = this.execution(body.executionArn);
          return reply(200, {
            events: e.history.map((h, i) => ({
              id: i + 1,
              type: h.type,
              timestamp: h.at.getTime() / 1000,
              stateName: h.state,
            })),
          });
        }
        case "ListStateMachines":
          return reply(200, {
            stateMachines: [...this.machines.values()].map((m) => ({
              stateMachineArn: m.arn,
              name: m.name,
              type: "STANDARD",
              creationDate: 0,
            })),
          });
        default:
          throw new StatesError(
            "UnknownOperationException",
            `The local Step Functions runner does not implement ${target}`,
          );
      }
    } catch (error) {
      const e = error as Error;
      reply(400, { __type: e.name, message: e.message });
    }
  }
}
