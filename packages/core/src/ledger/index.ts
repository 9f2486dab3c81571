import { z } from "zod";

/**
 * What every flow's ledger row shares (pk/sk strings, GSI `byFlow` on flow + at): when it was
 * recorded, why it ended as it did, and when its execution started and finished.
 */
export const BaseRow = z.object({
  pk: z.string(),
  sk: z.string(),
  at: z.string(),
  reason: z.string().optional(),
  execution: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

/** Seconds from the execution's start to its verdict, when both are known. */
export function durationSeconds(row: {
  startedAt?: string;
  finishedAt?: string;
}): number | undefined {
  if (!row.startedAt || !row.finishedAt) return undefined;
  const ms = Date.parse(row.finishedAt) - Date.parse(row.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 100) / 10 : undefined;
}
