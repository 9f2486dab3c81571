import { z } from "zod";
import { BaseRow } from "../ledger";

/**
 * How ingestion is kept in the ledger (pk/sk strings, GSI `byFlow` on flow + at).
 *
 * Per dataset (`pk = ingest#<dataset>`):
 * - `sk = file#<file id>`: one object version, claimed by one batch. A conditional write admits
 *   each version once, so duplicate deliveries and replays ingest nothing twice, while a new
 *   version of the same key (an overwrite) is a new file.
 * - `sk = batch#<manifest hash>`: one batch — its files, manifest, Glue runs, Snowflake result.
 * - `sk = skip#<message id>`: a message that caused no action, with the reason.
 */

export const FLOW = "ingest";
const DAY = 86_400;
export const RETENTION_SECONDS = { file: 400 * DAY, batch: 400 * DAY, skip: 30 * DAY } as const;

export const keys = {
  dataset: (name: string) => `ingest#${name}`,
  /** Skips that concern no dataset. */
  unrouted: "ingest#unrouted",
  file: (id: string) => `file#${id}`,
  batch: (hash: string) => `batch#${hash}`,
  skip: (messageId: string) => `skip#${messageId}`,
};

/** A claim older than this may be taken over (its handler died between claiming and starting). */
export const STALE_CLAIM_SECONDS = 300;

export const Status = z.enum([
  "STARTED",
  "RUNNING",
  "INGESTED",
  "GLUE_FAILED",
  "REFRESH_FAILED",
  "SKIPPED",
]);
export type Status = z.output<typeof Status>;

/** A batch or skip row as `switchyard status` reads it from the byFlow index. */
export const Row = BaseRow.extend({
  flow: z.literal(FLOW),
  status: Status,
  dataset: z.string().optional(),
  files: z.number().optional(),
  manifest: z.string().optional(),
  glueRuns: z.record(z.string(), z.string()).optional(),
  failedJob: z.string().optional(),
  refresh: z
    .object({
      statements: z.number(),
      registeredNew: z.number(),
      registeredUpdate: z.number(),
      unregistered: z.number(),
    })
    .optional(),
  key: z.string().optional(),
});
export type Row = z.output<typeof Row>;
