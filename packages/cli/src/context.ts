import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useLocalAws } from "@switchyard/local/env";
import { applyResourceEnv } from "@switchyard/local/resources";
import { REPO_ROOT } from "@switchyard/local/runtime";

export interface LocalState {
  endpoint: string;
  sfnEndpoint: string;
  stage: string;
  region: string;
  pid: number;
  resources: Record<string, Record<string, string>>;
}

export const localStatePath = () =>
  process.env.SWITCHYARD_STATE_FILE || join(REPO_ROOT, ".switchyard", "local.json");

/** Thrown for mistakes the user can fix; the CLI prints the message without a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the CLI's AWS calls go and which resources it sees:
 * - stage `local`: the running `switchyard local` (its `.switchyard/local.json`);
 * - any other stage: AWS, with resources linked by `sst shell --stage <stage> -- switchyard …`.
 */
export function connect(stage: string): {
  stage: string;
  resources: Record<string, Record<string, string>>;
  local?: LocalState;
} {
  if (stage === "local") {
    const path = localStatePath();
    if (!existsSync(path))
      throw new UsageError(
        "the local control plane is not running. Start it with `npm start` (or `switchyard local`) in another terminal.",
      );
    const state = JSON.parse(readFileSync(path, "utf8")) as LocalState;
    if (!processAlive(state.pid))
      throw new UsageError(
        `the local control plane (pid ${state.pid}) has exited. Start it again with \`npm start\`.`,
      );
    useLocalAws({ endpoint: state.endpoint, sfnEndpoint: state.sfnEndpoint, region: state.region });
    applyResourceEnv(state.resources);
    return { stage, resources: state.resources, local: state };
  }
  const resources: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("SST_RESOURCE_") && value)
      resources[key.slice("SST_RESOURCE_".length)] = JSON.parse(value);
  }
  const linkedStage = resources.App?.stage;
  if (!linkedStage) {
    throw new UsageError(
      `no resources are linked for stage '${stage}'. Run the command through SST: \`npx sst shell --stage ${stage} -- npx switchyard …\``,
    );
  }
  if (linkedStage !== stage)
    throw new UsageError(
      `resources are linked for stage '${linkedStage}', not '${stage}'. Use \`sst shell --stage ${stage}\`.`,
    );
  return { stage, resources };
}
