import type { Clients } from "@switchyard/aws";
import type { Config, Topology } from "@switchyard/core";
import type { Provisioned } from "../provision";
import type { LocalStepFunctions, ResourceBinding } from "../sfn";
import { deployPlugin } from "./deploy";

/** What a flow's local plugin can use. */
export interface PluginContext {
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
export interface LocalFlowPlugin {
  flow: Topology.Flow;
  seed?(ctx: PluginContext): Promise<void>;
  bindings?(ctx: PluginContext): Record<string, ResourceBinding>;
}

/** Flow plugins, registered by the flows as they are implemented. */
export const plugins: LocalFlowPlugin[] = [deployPlugin];
