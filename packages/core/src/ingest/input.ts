import { z } from "zod";
import { Dataset as DatasetSchema, SnowflakeConnection } from "../config/schema";

/** What the ingest functions read through their link `IngestConfig`. */
export const Settings = z.object({ datasets: z.array(DatasetSchema) });
export type Settings = z.output<typeof Settings>;

/**
 * The Snowflake connection the refresh function reads through its link `Snowflake`: the
 * configured connection, plus `accessUrl` when it talks to the local stand-in.
 */
export const SnowflakeLink = SnowflakeConnection.extend({ accessUrl: z.string().url().optional() });
export type SnowflakeLink = z.output<typeof SnowflakeLink>;

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
