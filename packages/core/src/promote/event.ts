import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { z } from "zod";

/**
 * S3's "Object Created" event for an uploaded build artifact, as EventBridge delivers it to the
 * promote workflow. The key is raw (not URL-encoded). `version-id` is optional here so that an
 * upload to an unversioned bucket is recorded as a failure with its reason, not rejected unseen.
 */
export const ArtifactUploaded = EventBridgeSchema.extend({
  "detail-type": z.literal("Object Created"),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().min(0).optional(),
      "version-id": z.string().min(1).optional(),
    }),
  }),
});
export type ArtifactUploaded = z.output<typeof ArtifactUploaded>;

/** One uploaded artifact. */
export interface Artifact {
  eventId: string;
  bucket: string;
  key: string;
  versionId?: string;
  size?: number;
  /** Set when the event is an archive replay. */
  replay?: string;
}

/** Parses the workflow's input event; returns the artifact or why it is not one. */
export function parseArtifact(event: unknown): { artifact: Artifact } | { error: string } {
  const parsed = ArtifactUploaded.safeParse(event);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`);
    return { error: `not an S3 Object Created event (${fields.join("; ")})` };
  }
  const e = parsed.data;
  return {
    artifact: {
      eventId: e.id,
      bucket: e.detail.bucket.name,
      key: e.detail.object.key,
      versionId: e.detail.object["version-id"],
      size: e.detail.object.size,
      replay: e["replay-name"],
    },
  };
}
