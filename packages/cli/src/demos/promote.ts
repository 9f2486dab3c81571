import { GetAliasCommand } from "@aws-sdk/client-lambda";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { Ledger, Promote } from "@switchyard/core";
import type { LocalRuntime } from "@switchyard/local/runtime";
import { demoPackage } from "@switchyard/local/zip";
import type { Demo } from "../demos";

/** Uploads a build of the first promotion's function and narrates each step until a verdict. */
async function uploadAndFollow(rt: LocalRuntime, log: (l: string) => void, build: string) {
  const p = rt.config.promotions[0];
  if (!p) throw new Error("no promotion is configured");
  const key = `${p.prefix}${build}.zip`;
  const { VersionId = "" } = await rt.clients.s3.send(
    new PutObjectCommand({ Bucket: p.bucket, Key: key, Body: demoPackage(build) }),
  );
  log(`[demo] uploaded s3://${p.bucket}/${key} (object version ${VersionId.slice(0, 8)}…)`);
  const rowKey = {
    pk: Promote.keys.alias(p.function, p.alias),
    sk: Promote.keys.run(p.bucket, key, VersionId),
  };
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    const { Item } = await rt.clients.doc.send(
      new GetCommand({ TableName: rt.provisioned.tables.Ledger?.name, Key: rowKey }),
    );
    const alias = await rt.clients.lambda.send(
      new GetAliasCommand({ FunctionName: p.function, Name: p.alias }),
    );
    const weights = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {})
      .map(([v, w]) => `${Math.round(w * 100)}% on ${v}`)
      .join(", ");
    const status = String(Item?.status ?? "waiting for the workflow");
    const line = `${status}; ${p.alias} → version ${alias.FunctionVersion}${weights ? ` (${weights})` : ""}`;
    if (line !== last) {
      log(`[demo]   ${p.function}: ${line}`);
      last = line;
    }
    if (Promote.FINAL.includes(status as Promote.Status)) {
      const row = Promote.Row.safeParse(Item);
      const took = row.success ? Ledger.durationSeconds(row.data) : undefined;
      log(
        `[demo]   verdict ${status}${took !== undefined ? ` after ${took}s` : ""}: ${String(Item?.reason ?? "")}`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `no verdict for ${key} within 120 s; see \`npm run switchyard -- status --flow promote --stage local\``,
  );
}

export const promoteDemo: Demo = {
  flow: "promote",
  title: "promote a Lambda build: api/build-2.zip → new version → live 10% canary → promoted",
  async run(rt, log) {
    await uploadAndFollow(rt, log, "build-2");
    log(
      "[demo]   roll it back with `npm run switchyard -- promote rollback --function api --stage local`",
    );
  },
};
