import { z } from "zod";
import { BaseRow } from "../ledger";

/**
 * How promotions are kept in the ledger (pk/sk strings, GSI `byFlow` on flow + at).
 *
 * Per function alias (`pk = promote#<function>:<alias>`):
 * - `sk = lock`: which execution is promoting the alias now (`holder`), and the upload time of
 *   the newest artifact admitted (`uploadedAt`), so that a late event for an older build never
 *   regresses the alias. It carries no `flow`, so status lists skip it.
 * - `sk = run#<bucket>/<key>#<version id>`: one promotion of one artifact object version — its
 *   versions, traffic, verdict and reason. A conditional write creates it once, so duplicate
 *   deliveries and replays promote nothing twice.
 * - `sk = skip#<event id>`: an upload that caused no action, with the reason.
 * - `sk = rollback#<time>`: an operator's `switchyard promote rollback`.
 */

export const FLOW = "promote";
const DAY = 86_400;
export const RETENTION_SECONDS = { run: 400 * DAY, skip: 30 * DAY } as const;

export const keys = {
  alias: (fn: string, alias: string) => `promote#${fn}:${alias}`,
  /** Skips that concern no configured promotion. */
  unrouted: "promote#unrouted",
  lock: "lock",
  run: (bucket: string, key: string, versionId: string) => `run#${bucket}/${key}#${versionId}`,
  skip: (eventId: string) => `skip#${eventId}`,
  rollback: (at: string) => `rollback#${at}`,
};

export const Status = z.enum([
  "QUEUED",
  "STARTING",
  "UPDATING",
  "SHIFTING",
  "AWAITING_APPROVAL",
  "PROMOTED",
  "UNCHANGED",
  "ROLLED_BACK",
  "SUPERSEDED",
  "FAILED",
  "ERROR",
  "SKIPPED",
]);
export type Status = z.output<typeof Status>;

/** Statuses after which a run never changes again: all but those of a run in progress. */
export const FINAL: readonly Status[] = Status.exclude([
  "QUEUED",
  "STARTING",
  "UPDATING",
  "SHIFTING",
  "AWAITING_APPROVAL",
]).options;

/** The `lock` item of a function alias. */
export const Lock = z.object({
  holder: z.string().optional(),
  /** The run key of the holder. */
  run: z.string().optional(),
  uploadedAt: z.string().optional(),
});
export type Lock = z.output<typeof Lock>;

/** A promotion, skip or operator rollback as `switchyard status` reads it. */
export const Row = BaseRow.extend({
  flow: z.literal(FLOW),
  status: Status,
  function: z.string().optional(),
  alias: z.string().optional(),
  bucket: z.string().optional(),
  key: z.string().optional(),
  versionId: z.string().optional(),
  codeSha256: z.string().optional(),
  /** The version being promoted. */
  version: z.string().optional(),
  /** The version the alias was on before (where a rollback puts it). */
  previousVersion: z.string().optional(),
  /** Traffic on `version` at the last shift, in percent. */
  percent: z.number().optional(),
  strategy: z.string().optional(),
  uploadedAt: z.string().optional(),
});
export type Row = z.output<typeof Row>;

/**
 * Whether an upload made at `uploadedAt` may be promoted after the newest one admitted: never
 * regress to an older build because its event arrived late.
 */
export function newerUpload(lock: Lock | undefined, uploadedAt: string): boolean {
  return !lock?.uploadedAt || lock.uploadedAt <= uploadedAt;
}
