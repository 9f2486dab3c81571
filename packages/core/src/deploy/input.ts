import { z } from "zod";
import { Deploy as DeploySchema } from "../config/schema";

/**
 * What the deploy handler reads through its link `DeployConfig`: the stage's resolved deploy
 * entries. The stacks link it as an `sst.Linkable`; the local runtime sets the same value.
 */
export const Settings = z.object({ deploys: z.array(DeploySchema) });
export type Settings = z.output<typeof Settings>;

/** The input of one deploy execution (one service, one digest). Deterministic for a push. */
export interface WorkflowInput {
  /** The run record the workflow updates. */
  ledger: { pk: string; sk: string };
  repository: string;
  tag: string;
  digest: string;
  /** `…/repo@sha256:…` */
  image: string;
  pushedAt: string;
  cluster: string;
  service: string;
  containers: string[];
  roles: string[];
  pollSeconds: number;
  maxPolls: number;
}

/** The payload the workflow hands the `DeployRevision` function. */
export const RevisionPayload = z.object({
  taskDefinition: z.string().min(1),
  containers: z.array(z.string().min(1)).min(1),
  image: z.string().regex(/@sha256:[a-f0-9]{64}$/, "must be pinned by digest"),
  roles: z.array(z.string()),
  rolesField: z.string().optional(),
});
export type RevisionPayload = z.output<typeof RevisionPayload>;
