import { createHash } from "node:crypto";
import type { Dataset } from "../config/schema";
import type { FileRef } from "./event";

/**
 * Which files form a batch, and what the batch is called. Pure: the handler feeds it the SQS
 * batch it received and acts on the result.
 */

/** Business identity of an object version: bucket + key + version-id, or etag + sequencer when unversioned. */
export const fileId = (f: FileRef): string =>
  f.versionId
    ? `${f.bucket}/${f.key}#v=${f.versionId}`
    : `${f.bucket}/${f.key}#etag=${f.etag ?? ""}#seq=${f.sequencer ?? ""}`;

/** A zero-byte key ending in `/`: the console's "folder", not data. */
export const isFolderMarker = (f: FileRef): boolean => f.size === 0 && f.key.endsWith("/");

/** The dataset whose bucket, prefix and suffix match the object, if any. */
export const datasetFor = (datasets: readonly Dataset[], f: FileRef): Dataset | undefined =>
  datasets.find(
    (d) => d.bucket === f.bucket && f.key.startsWith(d.prefix) && f.key.endsWith(d.suffix),
  );

export interface Message {
  messageId: string;
  file: FileRef;
}

export interface Plan {
  /** Files to ingest per dataset name, each file once (the first message that carried it). */
  batches: Map<string, { dataset: Dataset; files: FileRef[]; messageIds: string[] }>;
  /** Messages that cause no action, with the reason. */
  skipped: { messageId: string; reason: string; file: FileRef }[];
}

export function plan(datasets: readonly Dataset[], messages: readonly Message[]): Plan {
  const batches: Plan["batches"] = new Map();
  const skipped: Plan["skipped"] = [];
  const seen = new Map<string, string>();
  for (const m of messages) {
    const where = `s3://${m.file.bucket}/${m.file.key}`;
    if (isFolderMarker(m.file)) {
      skipped.push({ ...m, reason: `folder marker ${where}` });
      continue;
    }
    const dataset = datasetFor(datasets, m.file);
    if (!dataset) {
      skipped.push({
        ...m,
        reason: `${where} is outside every dataset's bucket, prefix and suffix`,
      });
      continue;
    }
    const id = fileId(m.file);
    const first = seen.get(id);
    const batch = batches.get(dataset.name) ?? { dataset, files: [], messageIds: [] };
    batch.messageIds.push(m.messageId);
    batches.set(dataset.name, batch);
    if (first) {
      skipped.push({ ...m, reason: `duplicate delivery of ${where} in the same batch` });
      continue;
    }
    seen.set(id, m.messageId);
    batch.files.push(m.file);
  }
  return { batches, skipped };
}

/** Files in a canonical order, so the same set always has the same manifest and name. */
export const canonical = (files: readonly FileRef[]): FileRef[] =>
  [...files].sort((a, b) => (fileId(a) < fileId(b) ? -1 : fileId(a) > fileId(b) ? 1 : 0));

/** sha256 of the batch's file identities: the manifest's name and the execution's. */
export const manifestHash = (dataset: string, files: readonly FileRef[]): string =>
  createHash("sha256")
    .update(`${dataset}\n${canonical(files).map(fileId).join("\n")}`)
    .digest("hex");

/** `<dataset>-<hash>`, at most 80 characters of `[A-Za-z0-9_-]`. */
export const executionName = (dataset: string, hash: string): string =>
  `${dataset}-${hash}`.slice(0, 80);

/** Where the manifest goes in the manifests bucket. */
export const manifestKey = (dataset: string, hash: string): string =>
  `manifests/${dataset}/${hash}.json`;

/**
 * The partition paths a batch touched, relative to the external stage's location:
 * `stagePath` (default: the dataset prefix) + the key's directory below the prefix.
 */
export function partitions(dataset: Dataset, files: readonly FileRef[]): string[] {
  const base = dataset.snowflake.stagePath ?? dataset.prefix;
  const paths = new Set<string>();
  for (const f of files) {
    const rest = f.key.slice(dataset.prefix.length);
    const dir = rest.includes("/") ? rest.slice(0, rest.lastIndexOf("/") + 1) : "";
    paths.add(`${base}${dir}`);
  }
  return [...paths].sort();
}

/** The manifest each Glue job receives (`--manifest s3://…`): exactly the batch's files. */
export function manifest(dataset: Dataset, files: readonly FileRef[], hash: string) {
  return {
    version: 1,
    dataset: dataset.name,
    batch: hash,
    files: canonical(files).map((f) => ({
      bucket: f.bucket,
      key: f.key,
      size: f.size,
      ...(f.versionId ? { versionId: f.versionId } : {}),
      ...(f.etag ? { etag: f.etag } : {}),
      ...(f.sequencer ? { sequencer: f.sequencer } : {}),
    })),
    partitions: partitions(dataset, files),
  };
}
export type Manifest = ReturnType<typeof manifest>;
