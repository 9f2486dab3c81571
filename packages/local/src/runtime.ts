import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Clients, clients as makeClients } from "@switchyard/aws";
import { Config, Topology, type Workflow } from "@switchyard/core";
import { bindingTable, resolveBinding } from "./bindings";
import { Dispatcher } from "./dispatcher";
import { DEFAULT_ENDPOINT, ensureEmulator } from "./emulator";
import { useLocalAws } from "./env";
import { plugins } from "./flows";
import { type Handler, lambdaContext, loadHandler } from "./lambda";
import { type Provisioned, provision } from "./provision";
import { applyResourceEnv, resourceLinks, workflowResources } from "./resources";
import { LocalStepFunctions, type ResourceBinding } from "./sfn";

/** The repository root (this file is packages/local/src/runtime.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const LOCAL_STAGE = "local";

/** Loads and validates `switchyard.config.ts` for a stage. */
export async function loadProjectConfig(
  stage: string,
  root = REPO_ROOT,
): Promise<Config.ResolvedConfig> {
  const file = join(root, "switchyard.config.ts");
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (mod.default === undefined)
    throw new Error(`${file} has no default export. Fix: export default Config.define({...})`);
  return Config.load(mod.default, stage, "switchyard.config.ts");
}

export interface LocalOptions {
  /** Emulator endpoint; started when nothing answers there (loopback only). */
  endpoint?: string;
  stage?: string;
  /** A config object instead of `switchyard.config.ts` (tests). */
  config?: unknown;
  /** Handlers by function id, replacing the ones loaded from `functions/` (tests). */
  handlers?: Record<string, Handler>;
  /** Extra or replacement Task bindings by exact resource ARN (tests, flows). */
  bindings?: Record<string, ResourceBinding>;
  /** Scales Wait states and retry intervals in local executions. */
  timeScale?: number;
  /**
   * Caps the SQS batching window of queue event sources (default 1000 ms, so local runs stay
   * snappy); `Infinity` honours each source's configured `windowSeconds`, as Lambda does.
   */
  maxBatchWindowMs?: number;
  log?: (line: string) => void;
  /** Where to write the `ready` state; defaults to `$SWITCHYARD_STATE_FILE` or `.switchyard/local.json`. Set false to skip. */
  stateFile?: string | false;
}

export interface LocalRuntime {
  endpoint: string;
  sfnEndpoint: string;
  stage: string;
  config: Config.ResolvedConfig;
  topology: Topology.Topology;
  provisioned: Provisioned;
  clients: Clients;
  sfn: LocalStepFunctions;
  dispatcher: Dispatcher;
  handlers: Record<string, Handler | undefined>;
  /** Local stand-ins the flow plugins started (e.g. `snowflake`: the Snowflake stand-in). */
  services: Record<string, unknown>;
  /** Invokes a function in-process, as `lambda:invoke` would. */
  invoke(functionId: string, payload: unknown): Promise<unknown>;
  /** Waits until no event is being dispatched and no execution runs. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the control plane locally: emulator (started or attached), topology provisioned
 * for the stage, local Step Functions runner, dispatcher. Handlers run in-process.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? (() => undefined);
  // Handlers log JSON through Powertools; locally only warnings and errors by default
  // (`POWERTOOLS_LOG_LEVEL=INFO npm start` shows every decision, e.g. skip reasons).
  process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
  const stage = options.stage ?? LOCAL_STAGE;
  const config =
    options.config !== undefined
      ? Config.load(options.config, stage)
      : await loadProjectConfig(stage);
  const topology = Topology.build(config);

  const emulator = await ensureEmulator({
    endpoint: options.endpoint ?? process.env.SWITCHYARD_ENDPOINT ?? DEFAULT_ENDPOINT,
    log,
  });
  const endpoint = emulator.endpoint;

  const handlers: Record<string, Handler | undefined> = {};
  for (const fn of topology.functions) {
    handlers[fn.id] = options.handlers?.[fn.id] ?? (await loadHandler(REPO_ROOT, fn.handler));
    if (!handlers[fn.id])
      log(
        `[local] ${fn.handler} is not implemented yet: events for ${fn.flow} will be dead-lettered`,
      );
  }

  let provisioned: Provisioned | undefined;
  const invoke = async (functionId: string, payload: unknown): Promise<unknown> => {
    const id = functionId.split(":").pop() ?? functionId;
    const fn = topology.functions.find((f) => f.id === id);
    const handler = handlers[id];
    if (!fn || !handler)
      throw Object.assign(new Error(`Function not found: ${functionId}`), {
        name: "Lambda.ResourceNotFoundException",
      });
    return handler(
      payload,
      lambdaContext(
        fn.id,
        fn.timeoutSeconds,
        topology.region,
        provisioned?.account ?? "123456789012",
      ),
    );
  };

  // Bindings are resolved per task, after the clients exist (the SFN server must be up first,
  // so that every client, including handlers' `clients()`, sends Step Functions calls to it).
  let table: ReturnType<typeof bindingTable> | undefined;
  const sfn = new LocalStepFunctions({
    bindings: (resource) => (table ? resolveBinding(table)(resource) : undefined),
    timeScale: options.timeScale ?? 1,
    log,
  });
  const sfnServer = await sfn.serve();
  useLocalAws({ endpoint, sfnEndpoint: sfnServer.endpoint, region: topology.region });
  const clients = makeClients({ endpoint, region: topology.region });
  table = bindingTable(clients, invoke);
  for (const [resource, binding] of Object.entries(options.bindings ?? {}))
    table.exact.set(resource, binding);

  log(`[local] provisioning stage '${stage}' into ${endpoint}`);
  provisioned = await provision(topology, clients);
  const links = resourceLinks(topology, provisioned);
  applyResourceEnv(links);

  const rt = { endpoint, topology, provisioned, clients, sfn, config, log };
  const stops: (() => Promise<void>)[] = [];
  const services: Record<string, unknown> = {};
  for (const plugin of plugins) {
    if (
      !topology.stateMachines.some((s) => s.flow === plugin.flow) &&
      !topology.functions.some((f) => f.flow === plugin.flow)
    )
      continue;
    const seeded = await plugin.seed?.(rt);
    if (seeded?.stop) stops.push(seeded.stop);
    Object.assign(services, seeded?.services);
    if (seeded?.links) {
      for (const [id, value] of Object.entries(seeded.links))
        links[id] = { ...links[id], ...value };
      applyResourceEnv(links);
    }
    for (const [resource, binding] of Object.entries(plugin.bindings?.(rt) ?? {})) {
      if (!table.exact.has(resource)) table.exact.set(resource, binding);
    }
  }

  for (const sm of topology.stateMachines) {
    const file = join(REPO_ROOT, "workflows", `${sm.workflow}.ts`);
    if (!existsSync(file)) {
      log(`[local] workflows/${sm.workflow}.ts is not implemented yet: ${sm.id} cannot run`);
      continue;
    }
    const mod = (await import(pathToFileURL(file).href)) as Workflow.Module;
    const ref = provisioned.stateMachines[sm.id];
    if (!ref) continue;
    sfn.register({
      name: ref.name,
      arn: ref.arn,
      definition: mod.definition({ topology, resources: workflowResources(topology, provisioned) }),
    });
  }

  const dispatcher = new Dispatcher({
    topology,
    provisioned,
    clients,
    sfn,
    handlers,
    log,
    ...(options.maxBatchWindowMs !== undefined ? { maxWindowMs: options.maxBatchWindowMs } : {}),
  });
  dispatcher.start();

  const stateFile =
    options.stateFile === undefined
      ? join(REPO_ROOT, ".switchyard", "local.json")
      : options.stateFile;
  if (stateFile) {
    await mkdir(dirname(stateFile), { recursive: true });
    await writeFile(
      stateFile,
      `${JSON.stringify({ endpoint, sfnEndpoint: sfnServer.endpoint, stage, region: topology.region, pid: process.pid, startedAt: new Date().toISOString(), resources: links }, null, 2)}\n`,
    );
  }

  let stopped = false;
  return {
    endpoint,
    sfnEndpoint: sfnServer.endpoint,
    stage,
    config,
    topology,
    provisioned,
    clients,
    sfn,
    dispatcher,
    handlers,
    services,
    invoke,
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      // Executions can send events and events can start executions: settle both.
      for (let round = 0; round < 5; round++) {
        await dispatcher.idle(Math.max(1, deadline - Date.now()));
        await sfn.idle(Math.max(1, deadline - Date.now()));
        if ([...sfn.executions.values()].every((e) => e.status !== "RUNNING")) {
          await dispatcher.idle(Math.max(1, deadline - Date.now()));
          return;
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop();
      for (const stop of stops) await stop();
      await sfnServer.close();
      await emulator.stop();
    },
  };
}

export type { Handler };
