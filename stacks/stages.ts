import { Config, Topology } from "@switchyard/core";
import switchyardConfig from "../switchyard.config";

/**
 * Stage-level decisions that need no SST globals, so `app()` in sst.config.ts can use them
 * before `$app` exists. Everything else reads `config`/`topology` from `./topology`.
 */

/**
 * The stage that holds the account-level resources: the GitHub OIDC provider and the deploy
 * role GitHub Actions assumes (`stacks/github-oidc.ts`). An administrator deploys it once per
 * AWS account with `sst deploy --stage bootstrap`; it contains nothing else. Every other stage
 * is the control plane itself and is deployed by GitHub Actions through that role.
 */
export const BOOTSTRAP_STAGE = "bootstrap";

export interface Resolved {
  config: Config.ResolvedConfig;
  topology: Topology.Topology;
}

/** Validates `input` for `stage` (throws `ConfigError` naming each bad field) and builds the topology. */
export function resolve(stage: string, input: unknown = switchyardConfig): Resolved {
  const config = Config.load(input, stage);
  return { config, topology: Topology.build(config) };
}

/** Production stages and the bootstrap stage keep their resources and refuse `sst remove`. */
export function appSettings(stage: string, input: unknown = switchyardConfig) {
  const { config } = resolve(stage, input);
  const keep = config.production || stage === BOOTSTRAP_STAGE;
  return {
    name: config.app,
    region: config.region,
    removal: keep ? ("retain" as const) : ("remove" as const),
    protect: keep,
  };
}

/** The stages named in the config, with the bootstrap stage: what the deploy role must cover. */
export function knownStages(input: unknown = switchyardConfig): string[] {
  const stages =
    typeof input === "object" && input !== null && "stages" in input ? input.stages : undefined;
  const named = typeof stages === "object" && stages !== null ? Object.keys(stages) : [];
  return [...new Set([BOOTSTRAP_STAGE, ...named])];
}
