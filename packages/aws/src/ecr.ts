import { DescribeImagesCommand, type ECRClient } from "@aws-sdk/client-ecr";

export interface ImageInfo {
  registryId: string;
  pushedAt: Date;
  tags: string[];
}

/**
 * ECR's record of one image, by digest: when it was pushed (the order "never regress" uses)
 * and its tags. Undefined when the image or repository no longer exists.
 */
export async function describeImage(
  ecr: ECRClient,
  repository: string,
  digest: string,
): Promise<ImageInfo | undefined> {
  try {
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: repository,
        imageIds: [{ imageDigest: digest }],
      }),
    );
    const image = imageDetails?.[0];
    if (!image?.imagePushedAt || !image.registryId) return undefined;
    return {
      registryId: image.registryId,
      pushedAt: image.imagePushedAt,
      tags: image.imageTags ?? [],
    };
  } catch (error) {
    const name = (error as Error).name;
    if (name === "ImageNotFoundException" || name === "RepositoryNotFoundException")
      return undefined;
    throw error;
  }
}
