import type { Clients } from "@switchyard/aws";
import type { Config, Topology } from "@switchyard/core";
import type { Provisioned } from "../provision";
import type { LocalStepFunctions, ResourceBinding } from "../sfn";
import { deployPlugin } from "./deploy";
import { ingestPlugin } from "./ingest";
import { promotePlugin } from "./promote";

/** What a flow's local plugin can use. */
export interface PluginContext {
  /** The emulator's endpoint (for moto's own API, e.g. state transitions). */
  endpoint: string;
  topology: Topology.Topology;
  config: Config.ResolvedConfig;
  provisioned: Provisioned;
  clients: Clients;
  sfn: LocalStepFunctions;
  log: (line: string) => void;
}

/**
 * A flow's local extras: demo resources it needs in the emulator (ECS services, Glue jobs,
 * Lambda functions…) and Task bindings that simulate what the emulator does not do.
 * Each simulation must say so in the log.
 */
/** What a plugin's seed may hand back: links to add or update, and what to stop with the runtime. */
export interface SeedResult {
  links?: Record<string, Record<string, unknown>>;
  stop?: () => Promise<void>;
  /** Local stand-ins tests and demos can drive (e.g. `snowflake`), exposed as `rt.services`. */
  services?: Record<string, unknown>;
}

export interface LocalFlowPlugin {
  flow: Topology.Flow;
  seed?(ctx: PluginContext): Promise<SeedResult | undefined>;
  bindings?(ctx: PluginContext): Record<string, ResourceBinding>;
}

/** Flow plugins, registered by the flows as they are implemented. */
export const plugins: LocalFlowPlugin[] = [deployPlugin, ingestPlugin, promotePlugin];
