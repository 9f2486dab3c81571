import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { z } from "zod";

/**
 * ECR's "ECR Image Action" event, as EventBridge delivers it to the deploy handler.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 *
 * Only what the planner reads is required; a PUSH SUCCESS must carry a well-formed digest,
 * because the deploy pins the image by it.
 */
export const ImageActionDetail = z
  .object({
    "action-type": z.string().min(1),
    result: z.string().min(1),
    "repository-name": z.string().min(1),
    "image-digest": z
      .string()
      .regex(/^sha256:[a-f0-9]{64}$/, "must be 'sha256:' followed by 64 hex digits")
      .optional(),
    /** Empty (`""`) for a push by digest only, e.g. one platform manifest of a multi-arch push. */
    "image-tag": z.string().optional(),
  })
  .superRefine((d, ctx) => {
    if (d["action-type"] === "PUSH" && d.result === "SUCCESS" && !d["image-digest"]) {
      ctx.addIssue({
        code: "custom",
        path: ["image-digest"],
        message: "a successful PUSH must carry the image digest",
      });
    }
  });

export const ImageAction = EventBridgeSchema.extend({
  "detail-type": z.literal("ECR Image Action"),
  detail: ImageActionDetail,
});

export type ImageAction = z.output<typeof ImageAction>;
export type ImageActionDetail = z.output<typeof ImageActionDetail>;

/** A clear, non-retryable error for an event that does not have the ECR shape. */
export class MalformedEvent extends Error {
  override name = "MalformedEvent";
}

/** Parses an EventBridge event as an ECR image action, or throws `MalformedEvent` naming the fields. */
export function parseImageAction(event: unknown): ImageAction {
  const result = ImageAction.safeParse(event);
  if (result.success) return result.data;
  const fields = result.error.issues
    .map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`)
    .join("; ");
  throw new MalformedEvent(
    `not an ECR Image Action event (${fields}). It was dead-lettered with the original event; check the rule's pattern or the sender (switchyard send ecr-push builds a valid one).`,
  );
}
