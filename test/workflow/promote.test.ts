import { GetAliasCommand, ListVersionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { Config, Promote, Topology } from "@switchyard/core";
import { afterEach, describe, expect, it } from "vitest";
import { Promote as PromoteAws } from "../../packages/aws/src";
import { awsSdkBinding, bindingTable, resolveBinding } from "../../packages/local/src/bindings";
import type { PluginContext } from "../../packages/local/src/flows";
import { promotePlugin } from "../../packages/local/src/flows/promote";
import {
  LocalStepFunctions,
  type ResourceBinding,
  StatesError,
} from "../../packages/local/src/sfn";
import switchyardConfig from "../../switchyard.config";
import { definition } from "../../workflows/promote";
import { useEmulator } from "../support/emulator";
import { objectCreated } from "../support/factories";
import { prepareArtifact } from "../support/promote";

/**
 * The promote workflow's own ASL (workflows/promote.ts), run by aws-local-stepfunctions with its
 * Tasks bound to the emulator's Lambda, CloudWatch, S3 and DynamoDB and to the real Admit /
 * Resolve logic. Bindings replaced per test inject what the emulator cannot produce: throttling,
 * an update in progress, code Lambda rejects, a failed update, a lost RevisionId race.
 */
const { clients } = useEmulator();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:promote";
const TABLE = "ledger";
const fnArn = (id: string) => `arn:aws:lambda:us-east-1:123456789012:function:${id}`;
const UPDATE_CODE = "arn:aws:states:::aws-sdk:lambda:updateFunctionCode";
const UPDATE_ALIAS = "arn:aws:states:::aws-sdk:lambda:updateAlias";
const GET_CONFIG = "arn:aws:states:::aws-sdk:lambda:getFunctionConfiguration";

const config = Config.load(switchyardConfig, "local");
const asl = definition({
  topology: Topology.build(config),
  resources: {
    Ledger: { name: TABLE },
    PromoteAdmit: { arn: fnArn("PromoteAdmit") },
    PromoteResolve: { arn: fnArn("PromoteResolve") },
    PromoteApproval: { arn: fnArn("PromoteApproval") },
  },
});
const api = config.promotions[0] as Config.Promotion;

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

/** Emulator state for one promotion (ledger, versioned bucket, function api on version 1, alarm); returns the event. */
async function prepare() {
  const { key, versionId } = await prepareArtifact(clients(), TABLE, api);
  return objectCreated({ bucket: api.bucket, key, versionId: versionId ?? "", source: "aws.s3" });
}

/** Runs one execution with emulator-backed bindings, `overrides` replacing some. */
async function execute(
  event: unknown,
  overrides: Record<string, ResourceBinding> = {},
  promotion: Config.Promotion = {
    ...api,
    strategy: { type: "canary", percent: 10, bakeSeconds: 2 },
  },
) {
  const c = clients();
  const settings = { promotions: [promotion] };
  const table = bindingTable(c, async (fn, payload) => {
    const p = payload as Record<string, unknown>;
    if (fn.endsWith("PromoteAdmit"))
      return PromoteAws.admit(c, TABLE, settings, Promote.AdmitPayload.parse(p));
    if (fn.endsWith("PromoteResolve"))
      return PromoteAws.resolveVersion(c, String(p.function), String(p.codeSha256));
    throw new Error(`unexpected function ${fn}`);
  });
  const plugin =
    promotePlugin.bindings?.({ clients: c, log: () => undefined } as unknown as PluginContext) ??
    {};
  for (const [k, v] of Object.entries({ ...plugin, ...overrides })) table.exact.set(k, v);
  const sfn = new LocalStepFunctions({ bindings: resolveBinding(table), timeScale: 0.001 });
  sfn.register({ name: "promote", arn: SM, definition: asl });
  const execution = sfn.start(SM, JSON.stringify(event), "test");
  await execution.done;
  const detail = (event as { detail: { object: { key: string; "version-id": string } } }).detail;
  const { Item } = await c.doc.send(
    new GetCommand({
      TableName: TABLE,
      Key: {
        pk: Promote.keys.alias("api", "live"),
        sk: Promote.keys.run(api.bucket, detail.object.key, detail.object["version-id"]),
      },
    }),
  );
  const states = (type: string) =>
    execution.history.filter((h) => h.type === type).map((h) => h.state);
  const a = await c.lambda.send(new GetAliasCommand({ FunctionName: "api", Name: "live" }));
  const { Versions = [] } = await c.lambda.send(
    new ListVersionsByFunctionCommand({ FunctionName: "api" }),
  );
  return {
    execution,
    record: Item,
    states,
    alias: { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} },
    versions: Versions.map((v) => v.Version).filter((v) => v !== "$LATEST"),
  };
}

/** A binding that fails `times` times with `error`, then calls the real one. */
const failing = (
  times: number,
  error: string,
  real: ResourceBinding,
  message = error,
): ResourceBinding => {
  let calls = 0;
  return async (input, ctx) => {
    calls += 1;
    if (calls <= times) throw new StatesError(error, `${message} (injected, call ${calls})`);
    return real(input, ctx);
  };
};

const sdk = () => awsSdkBinding(clients());
const realUpdateCode = () =>
  promotePlugin.bindings?.({
    clients: clients(),
    log: () => undefined,
  } as unknown as PluginContext)?.[UPDATE_CODE] as ResourceBinding;

describe("promote workflow (ASL)", () => {
  it("updates the code, publishes, shifts 10%, bakes with the alarm watched, then promotes", async () => {
    // Prepare
    const event = await prepare();
    // Act
    const { execution, record, states, alias, versions } = await execute(event);
    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(states("StateEntered")).toEqual(
      expect.arrayContaining([
        "UpdateCode",
        "Publish",
        "Shift",
        "CheckAlarms",
        "PromoteAll",
        "RecordPromoted",
      ]),
    );
    expect(record).toMatchObject({ status: "PROMOTED", version: "2", previousVersion: "1" });
    expect(alias).toEqual({ version: "2", weights: {} });
    expect(versions).toEqual(["1", "2"]);
  });

  it.each([
    {
      name: "an update in progress (emulator cannot produce; injected)",
      resource: UPDATE_CODE,
      error: "Lambda.ResourceConflictException",
      state: "UpdateCode",
    },
    {
      name: "Lambda throttling on UpdateFunctionCode (injected)",
      resource: UPDATE_CODE,
      error: "Lambda.TooManyRequestsException",
      state: "UpdateCode",
    },
    {
      name: "Lambda throttling on UpdateAlias (injected)",
      resource: UPDATE_ALIAS,
      error: "Lambda.TooManyRequestsException",
      state: "Shift",
    },
  ])("retries $name, and publishes exactly one version", async ({ resource, error, state }) => {
    // Prepare
    const event = await prepare();
    const real = resource === UPDATE_CODE ? realUpdateCode() : sdk();
    // Act
    const { execution, record, versions } = await execute(event, {
      [resource]: failing(2, error, real),
    });
    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(execution.history.filter((h) => h.state === state && h.error === error)).toHaveLength(2);
    expect(record?.status).toBe("PROMOTED");
    expect(versions).toEqual(["1", "2"]);
  });

  it("Catch: an Admit that keeps failing (injected) still records the upload as ERROR, with the error", async () => {
    // Prepare
    const event = await prepare();
    // Act
    const { execution, versions } = await execute(event, {
      "arn:aws:states:::lambda:invoke": async () => {
        throw new StatesError(
          "AccessDeniedException",
          "not authorized to perform dynamodb:GetItem (injected)",
        );
      },
    });
    // Assess
    expect(execution.error).toBe("Promote.ERROR");
    const { Item } = await clients().doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: Promote.keys.unrouted, sk: "error#test" } }),
    );
    expect(Item).toMatchObject({ flow: "promote", status: "ERROR" });
    expect(String(Item?.reason)).toMatch(
      /could not be admitted \(AccessDeniedException: not authorized/,
    );
    expect(versions).toEqual(["1"]);
  });

  it("reads the function again when its RevisionId changed underneath (injected PreconditionFailed)", async () => {
    // Prepare
    const event = await prepare();
    // Act
    const { execution, record, states } = await execute(event, {
      [UPDATE_CODE]: failing(1, "Lambda.PreconditionFailedException", realUpdateCode()),
    });
    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(states("StateEntered").filter((s) => s === "GetRevision")).toHaveLength(2);
    expect(record?.status).toBe("PROMOTED");
  });

  it.each([
    {
      name: "code Lambda rejects (injected: moto accepts any zip)",
      overrides: (): Record<string, ResourceBinding> => ({
        [UPDATE_CODE]: failing(
          9,
          "Lambda.InvalidParameterValueException",
          realUpdateCode(),
          "Could not unzip uploaded file",
        ),
      }),
      reason:
        /Lambda.InvalidParameterValueException: Could not unzip uploaded file.*\(the alias was not changed\)/,
    },
    {
      name: "an update that ends Failed (injected: moto always reports Successful)",
      overrides: (): Record<string, ResourceBinding> => ({
        [GET_CONFIG]: async (input, ctx) => {
          const out = (await sdk()(input, ctx)) as Record<string, unknown>;
          return ctx.state === "WaitUpdated"
            ? {
                ...out,
                LastUpdateStatus: "Failed",
                LastUpdateStatusReasonCode: "InvalidZipFileException",
                LastUpdateStatusReason: "Lambda was unable to unzip the package",
              }
            : { ...out, RevisionId: "r1" };
        },
        [UPDATE_CODE]: async (input, ctx) =>
          realUpdateCode()({ ...(input as object), RevisionId: undefined } as never, ctx),
      }),
      reason:
        /Lambda could not apply the new code \(InvalidZipFileException\): Lambda was unable to unzip the package/,
    },
  ])("stops on $name: FAILED, no version, alias untouched", async ({ overrides, reason }) => {
    // Prepare
    const event = await prepare();
    // Act
    const { execution, record, alias, versions } = await execute(event, overrides());
    // Assess
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("Promote.FAILED");
    expect(record?.status).toBe("FAILED");
    expect(String(record?.reason)).toMatch(reason);
    expect(alias).toEqual({ version: "1", weights: {} });
    expect(versions).toEqual(["1"]);
  });

  it("Catch: a failure after the canary started puts the alias back (ROLLED_BACK), never left split", async () => {
    // Prepare: the final shift fails for good (injected)
    const event = await prepare();
    let calls = 0;
    const aliasBinding: ResourceBinding = async (input, ctx) => {
      calls += 1;
      if (ctx.state === "PromoteAll")
        throw new StatesError("Lambda.ResourceNotFoundException", "Alias not found (injected)");
      return sdk()(input, ctx);
    };
    // Act
    const { execution, record, alias } = await execute(event, { [UPDATE_ALIAS]: aliasBinding });
    // Assess
    expect(calls).toBe(3); // Shift, PromoteAll, Rollback
    expect(execution.error).toBe("Promote.ROLLED_BACK");
    expect(record).toMatchObject({ status: "ROLLED_BACK", percent: 0 });
    expect(String(record?.reason)).toMatch(/Alias not found.*live is back on version 1/);
    expect(alias).toEqual({ version: "1", weights: {} });
  });

  it("Catch: when even the rollback fails, records ERROR with the command that fixes it", async () => {
    // Prepare: every alias change after the first shift fails (injected)
    const event = await prepare();
    const aliasBinding: ResourceBinding = async (input, ctx) => {
      if (ctx.state !== "Shift")
        throw new StatesError("Lambda.ResourceNotFoundException", "gone (injected)");
      return sdk()(input, ctx);
    };
    // Act
    const { execution, record, alias } = await execute(event, { [UPDATE_ALIAS]: aliasBinding });
    // Assess
    expect(execution.error).toBe("Promote.ERROR");
    expect(String(record?.reason)).toMatch(/Run switchyard promote rollback --function api/);
    expect(alias.weights).toEqual({ "2": 0.1 });
  });
});
