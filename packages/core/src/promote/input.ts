import { z } from "zod";
import { Promotion } from "../config/schema";
import type { Step } from "./plan";

/** What the promote functions read from the `PromoteConfig` link. */
export const Settings = z.object({ promotions: z.array(Promotion) });
export type Settings = z.output<typeof Settings>;

/** The Admit task's payload: the workflow's input event and the execution's ARN. */
export const AdmitPayload = z.object({ event: z.unknown(), execution: z.string().min(1) });

/** A running promotion this one replaces (`onConcurrent: supersede`) or a stale one it cleans up. */
export interface Takeover {
  execution: string;
  ledger: { pk: string; sk: string };
  /** Where to put the alias back, when the old run had already shifted traffic. */
  stableVersion?: string;
  /** Whether the old execution is still running (and must be stopped). */
  running: boolean;
}

/** What the workflow does next, decided by the Admit task. */
export type Admission =
  | { action: "skip"; reason: string }
  | { action: "wait"; reason: string; waitSeconds: number }
  | {
      action: "run";
      ledger: { pk: string; sk: string };
      function: string;
      alias: string;
      bucket: string;
      key: string;
      versionId: string;
      alarms: string[];
      steps: Step[];
      /** all-at-once's bake at 100%, with alarms watched (zero or one step). */
      finalBake: Step[];
      approval: boolean;
      strategy: string;
      takeover?: Takeover;
    };

/** Seconds a queued promotion waits before asking again (`onConcurrent: queue`). */
export const QUEUE_POLL_SECONDS = 15;

/** The Resolve task's payload: is there already a version with this code? */
export const ResolvePayload = z.object({
  function: z.string().min(1),
  codeSha256: z.string().min(1),
});

/** The Approval task's payload (invoked with a task token). */
export const ApprovalPayload = z.object({
  token: z.string().min(1),
  ledger: z.object({ pk: z.string(), sk: z.string() }),
  function: z.string(),
  alias: z.string(),
  version: z.string(),
});
