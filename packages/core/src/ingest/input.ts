import { z } from "zod";
import { Dataset as DatasetSchema } from "../config/schema";

/** What the ingest functions read through their link `IngestConfig`. */
export const Settings = z.object({
  datasets: z.array(DatasetSchema),
  /** Source queue name → its dataset and the id of its DLQ (linked to the handler). */
  queues: z.record(z.string(), z.object({ dataset: z.string(), deadLetterQueue: z.string() })),
});
export type Settings = z.output<typeof Settings>;

/** The input of one ingest execution (one dataset batch). Deterministic for a batch. */
export interface WorkflowInput {
  ledger: { pk: string; sk: string };
  dataset: string;
  batch: string;
  /** `s3://<manifests bucket>/manifests/<dataset>/<hash>.json` */
  manifest: string;
  files: number;
  table: string;
  partitions: string[];
}

/** The payload the workflow hands the `IngestRefresh` function. */
export const RefreshPayload = z.object({
  ledger: z.object({ pk: z.string(), sk: z.string() }),
  table: z.string(),
  partitions: z.array(z.string()).min(1),
});
export type RefreshPayload = z.output<typeof RefreshPayload>;
