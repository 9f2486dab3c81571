import { z } from "zod";
import { BaseRow } from "../ledger";

/**
 * How deploys are kept in the ledger table (pk/sk strings, GSI `byFlow` on flow + at).
 *
 * Per service (`pk = deploy#<cluster>/<service>`):
 * - `sk = head`: the newest image admitted for the service. A conditional write on it admits a
 *   deploy only for an image newer than the one recorded, so late, out-of-order, duplicated and
 *   replayed events never regress or repeat a deploy. It carries no `flow`, so status lists skip it.
 * - `sk = run#<repository>@<digest>`: one deploy (business identity repository + digest + service),
 *   its progress and its verdict, written by the handler and then the workflow.
 * - `sk = skip#<event id>`: an event that caused no action, with the reason.
 */

export const FLOW = "deploy";
const DAY = 86_400;
/** Deploy records are kept this long (TTL), skips a shorter time. */
export const RETENTION_SECONDS = { run: 400 * DAY, skip: 30 * DAY } as const;

export const keys = {
  service: (cluster: string, service: string) => `deploy#${cluster}/${service}`,
  /** Skips that concern no service (e.g. a tag no pattern matches). */
  repository: (repository: string) => `deploy#repo/${repository}`,
  head: "head",
  run: (repository: string, digest: string) => `run#${repository}@${digest}`,
  skip: (eventId: string) => `skip#${eventId}`,
};

/** Verdicts the workflow records, and the states before one. */
export const Status = z.enum([
  "STARTING",
  "ROLLING_OUT",
  "COMPLETED",
  "FAILED",
  "TIMED_OUT",
  "SUPERSEDED",
  "ERROR",
  "SKIPPED",
]);
export type Status = z.output<typeof Status>;

/**
 * Orders images for "never regress": by ECR's imagePushedAt, then by digest so that two images
 * pushed in the same instant are still ordered the same way whatever order their events arrive in.
 */
export const orderKey = (pushedAt: Date, digest: string): string =>
  `${pushedAt.toISOString()}|${digest}`;

export const HeadState = z.enum(["ADMITTED", "STARTED"]);

/** The `head` item of a service. */
export const Head = z.object({
  orderKey: z.string(),
  digest: z.string(),
  repository: z.string(),
  tag: z.string().optional(),
  state: HeadState,
  execution: z.string().optional(),
});
export type Head = z.output<typeof Head>;

export type Admission =
  | { admit: true; resumed: boolean }
  | { admit: false; reason: string; duplicate: boolean };

/**
 * The admission rule the ledger's conditional write enforces, as a pure function (the adapter
 * uses it to explain a refused write). An image is admitted when it is newer than the head, or
 * when it is the head's own image and its execution was not started yet (a retry after a crash
 * between admission and start).
 */
export function admit(
  head: Head | undefined,
  candidate: { orderKey: string; digest: string },
): Admission {
  if (!head || head.orderKey < candidate.orderKey) return { admit: true, resumed: false };
  if (head.orderKey === candidate.orderKey) {
    return head.state === "ADMITTED"
      ? { admit: true, resumed: true }
      : {
          admit: false,
          duplicate: true,
          reason: `duplicate: ${candidate.digest} was already deployed to this service${head.execution ? ` (execution ${head.execution})` : ""}`,
        };
  }
  return {
    admit: false,
    duplicate: false,
    reason: `older image: ${candidate.digest} was pushed before ${head.repository}${head.tag ? `:${head.tag}` : ""} (${head.digest}), which this service already has; never regress`,
  };
}

/** A deploy or skip row as `switchyard status` reads it from the byFlow index. */
export const Row = BaseRow.extend({
  flow: z.literal(FLOW),
  status: Status,
  repository: z.string().optional(),
  tag: z.string().optional(),
  digest: z.string().optional(),
  cluster: z.string().optional(),
  service: z.string().optional(),
  revision: z.number().optional(),
  taskDefinitionArn: z.string().optional(),
  previousTaskDefinitionArn: z.string().optional(),
  rolledBackTo: z.string().optional(),
});
export type Row = z.output<typeof Row>;
