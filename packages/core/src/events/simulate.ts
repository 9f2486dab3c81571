import { createHash } from "node:crypto";
import { SIMULATED_SOURCE } from "../topology/topology";

/**
 * PutEvents entries that look like AWS's own events but carry the source
 * `switchyard.simulated`: AWS refuses PutEvents with an `aws.*` source, and non-production
 * rules accept this one, so `switchyard send` can drive a stage end to end.
 */
export interface Entry {
  Source: string;
  DetailType: string;
  Detail: string;
  Resources: string[];
  Time?: Date;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export interface EcrPush {
  repository: string;
  tag?: string;
  /** Defaults to a digest derived from repository and tag, so the same input is the same image. */
  digest?: string;
  region: string;
  account: string;
}

/** An "ECR Image Action" PUSH SUCCESS, shaped as ECR sends it. */
export function ecrPush(p: EcrPush): Entry {
  const digest = p.digest ?? `sha256:${sha(`${p.repository}:${p.tag ?? ""}`)}`;
  return {
    Source: SIMULATED_SOURCE,
    DetailType: "ECR Image Action",
    Resources: [`arn:aws:ecr:${p.region}:${p.account}:repository/${p.repository}`],
    Detail: JSON.stringify({
      result: "SUCCESS",
      "repository-name": p.repository,
      "image-digest": digest,
      "action-type": "PUSH",
      ...(p.tag ? { "image-tag": p.tag } : {}),
    }),
  };
}

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  versionId?: string;
  sequencer?: string;
}

/** An S3 "Object Created" event as S3 sends it to EventBridge. The key is raw, not URL-encoded. */
export function objectCreated(o: ObjectCreated): Entry {
  return {
    Source: SIMULATED_SOURCE,
    DetailType: "Object Created",
    Resources: [`arn:aws:s3:::${o.bucket}`],
    Detail: JSON.stringify({
      version: "0",
      bucket: { name: o.bucket },
      object: {
        key: o.key,
        size: o.size,
        etag: o.etag ?? sha(`${o.bucket}/${o.key}`).slice(0, 32),
        ...(o.versionId ? { "version-id": o.versionId } : {}),
        sequencer: o.sequencer ?? Date.now().toString(16).toUpperCase().padStart(18, "0"),
      },
      "request-id": sha(o.key).slice(0, 16).toUpperCase(),
      requester: "switchyard",
      reason: "PutObject",
    }),
  };
}
