import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { clients } from "@switchyard/aws";
import { Events } from "@switchyard/core";
import { connect, UsageError } from "../context";

export interface SendArgs {
  kind: string;
  stage: string;
  json: boolean;
  repository?: string;
  tag?: string;
  digest?: string;
  bucket?: string;
  key?: string;
  size?: string;
  versionId?: string;
}

const need = (value: string | undefined, flag: string, kind: string): string => {
  if (!value) throw new UsageError(`send ${kind} needs --${flag}`);
  return value;
};

/**
 * The digest ECR has for `repository:tag`, since the deploy handler reads the image from ECR.
 * On the local stage a missing image is pushed to the emulator first (a tiny placeholder).
 */
async function digestOf(
  repository: string,
  tag: string | undefined,
  local: boolean,
): Promise<string> {
  if (!tag) throw new UsageError("send ecr-push needs --tag, or --digest for a digest-only push");
  try {
    const { imageDetails } = await clients().ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
    );
    const digest = imageDetails?.[0]?.imageDigest;
    if (digest) return digest;
  } catch (error) {
    const name = (error as Error).name;
    if (name !== "ImageNotFoundException" && name !== "RepositoryNotFoundException") throw error;
    if (name === "RepositoryNotFoundException" && !local)
      throw new UsageError(
        `ECR has no repository '${repository}'. Check the name, or pass --digest.`,
      );
  }
  if (!local)
    throw new UsageError(
      `ECR has no image ${repository}:${tag}. Push it first (the deploy reads it from ECR), or pass --digest.`,
    );
  const { pushImage } = await import("@switchyard/local/flows/deploy");
  const digest = await pushImage(clients().ecr, repository, tag);
  process.stderr.write(`pushed a placeholder image ${repository}:${tag} to the emulator's ECR\n`);
  return digest;
}

/** `switchyard send ecr-push|object-created|artifact`: puts a simulated, real-shaped event on the default bus. */
export async function send(args: SendArgs): Promise<void> {
  const { local } = connect(args.stage);
  const region = local?.region ?? process.env.AWS_REGION ?? "us-east-1";
  const account = "123456789012";
  let entry: Events.Simulate.Entry;
  switch (args.kind) {
    case "ecr-push": {
      const repository = need(args.repository, "repository", args.kind);
      entry = Events.Simulate.ecrPush({
        repository,
        tag: args.tag,
        digest: args.digest ?? (await digestOf(repository, args.tag, Boolean(local))),
        region,
        account,
      });
      break;
    }
    case "object-created":
    case "artifact":
      entry = Events.Simulate.objectCreated({
        bucket: need(args.bucket, "bucket", args.kind),
        key: need(args.key, "key", args.kind),
        size: Number(args.size ?? 1),
        versionId: args.versionId,
      });
      break;
    default:
      throw new UsageError(
        `unknown event kind '${args.kind}'. Use one of: ecr-push, object-created, artifact`,
      );
  }
  const out = await clients().events.send(new PutEventsCommand({ Entries: [entry] }));
  const result = out.Entries?.[0];
  if (!result?.EventId)
    throw new Error(
      `PutEvents rejected the event: ${result?.ErrorCode ?? "?"} ${result?.ErrorMessage ?? ""}`,
    );
  if (args.json)
    process.stdout.write(
      `${JSON.stringify({ eventId: result.EventId, source: entry.Source, detailType: entry.DetailType, detail: JSON.parse(entry.Detail) })}\n`,
    );
  else
    process.stdout.write(
      `sent ${entry.DetailType} (${entry.Source}) as event ${result.EventId} to stage ${args.stage}\n`,
    );
}
