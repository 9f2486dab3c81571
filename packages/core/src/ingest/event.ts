import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { z } from "zod";

/**
 * S3's "Object Created" event as EventBridge delivers it (here inside an SQS message body).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 * The key is RAW, not URL-encoded: spaces, `:`, `+`, `=` and unicode appear as they are.
 */
export const ObjectCreatedDetail = z
  .object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z
      .object({
        key: z.string().min(1),
        size: z.number().int().min(0).default(0),
        etag: z.string().optional(),
        /** moto names it `eTag`; AWS sends `etag`. */
        eTag: z.string().optional(),
        "version-id": z.string().optional(),
        sequencer: z.string().optional(),
      })
      .transform(({ eTag, ...o }) => ({ ...o, etag: o.etag ?? eTag })),
  })
  .superRefine((d, ctx) => {
    if (!d.object["version-id"] && !(d.object.etag && d.object.sequencer)) {
      ctx.addIssue({
        code: "custom",
        path: ["object"],
        message: "an unversioned object needs etag and sequencer to be identified",
      });
    }
  });

export const ObjectCreated = EventBridgeSchema.extend({
  "detail-type": z.literal("Object Created"),
  detail: ObjectCreatedDetail,
});
export type ObjectCreated = z.output<typeof ObjectCreated>;

/** One object version, as the ingest flow tracks it. */
export interface FileRef {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  versionId?: string;
  sequencer?: string;
}

/** Parses an SQS message body holding an EventBridge S3 event; returns the file or why not. */
export function parseBody(body: string): { file: FileRef; eventId: string } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: "the message body is not JSON" };
  }
  const parsed = ObjectCreated.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`);
    return { error: `not an S3 Object Created event (${fields.join("; ")})` };
  }
  const o = parsed.data.detail.object;
  return {
    eventId: parsed.data.id,
    file: {
      bucket: parsed.data.detail.bucket.name,
      key: o.key,
      size: o.size,
      etag: o.etag,
      versionId: o["version-id"],
      sequencer: o.sequencer,
    },
  };
}
