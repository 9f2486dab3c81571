import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Clients } from "../../packages/aws/src";
import type { Config } from "../../packages/core/src";
import { seedPromotions } from "../../packages/local/src/flows/promote";
import { ensureBucket } from "../../packages/local/src/provision";
import { demoPackage } from "../../packages/local/src/zip";
import { createLedgerTable } from "./ledger";

/**
 * Emulator state for one promotion of `promotion` without the local runtime: the ledger table,
 * the artifact bucket (versioned unless told otherwise), the function on version 1 with its alias
 * and alarms, and `build-2.zip` uploaded under the prefix. Returns the upload's key and version.
 */
export async function prepareArtifact(
  c: Clients,
  table: string,
  promotion: Config.Promotion,
  { versioned = true }: { versioned?: boolean } = {},
): Promise<{ key: string; versionId?: string }> {
  await createLedgerTable(c, table);
  await ensureBucket(c, {
    name: promotion.bucket,
    flow: "promote",
    managed: true,
    versioned,
    eventBridge: false,
  });
  await seedPromotions(c, [promotion], "123456789012");
  const key = `${promotion.prefix}build-2.zip`;
  const { VersionId } = await c.s3.send(
    new PutObjectCommand({ Bucket: promotion.bucket, Key: key, Body: demoPackage("build-2") }),
  );
  return { key, versionId: VersionId };
}
