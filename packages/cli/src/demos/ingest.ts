import { PutObjectCommand } from "@aws-sdk/client-s3";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Ingest } from "@switchyard/core";
import type { LocalRuntime } from "@switchyard/local/runtime";
import type { Demo } from "../demos";

const TERMINAL = new Set(["INGESTED", "GLUE_FAILED", "REFRESH_FAILED"]);

/** Drops three files under the first dataset's prefix and follows the batch to Snowflake. */
export const ingestDemo: Demo = {
  flow: "ingest",
  title: "file-drop ingestion: three files → one batch → Glue jobs in order → Snowflake refresh",
  async run(rt: LocalRuntime, log) {
    const dataset = rt.config.datasets[0];
    if (!dataset) throw new Error("no dataset is configured");
    const since = new Date().toISOString();
    const keys = ["2026/11/23/orders-0001", "2026/11/23/orders-0002", "2026/11/24/orders-0003"].map(
      (k) => `${dataset.prefix}${k}${dataset.suffix}`,
    );
    for (const key of keys) {
      await rt.clients.s3.send(
        new PutObjectCommand({ Bucket: dataset.bucket, Key: key, Body: "id,total\n1,9.99\n" }),
      );
    }
    log(`[demo] dropped ${keys.length} files into s3://${dataset.bucket}/${dataset.prefix}…`);
    const deadline = Date.now() + 120_000;
    let last = "";
    while (Date.now() < deadline) {
      const { Items = [] } = await rt.clients.doc.send(
        new QueryCommand({
          TableName: rt.provisioned.tables.Ledger?.name,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :b)",
          FilterExpression: "#at >= :since",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: {
            ":pk": Ingest.keys.dataset(dataset.name),
            ":b": "batch#",
            ":since": since,
          },
        }),
      );
      const summary = Items.map((b) => `${b.files} files ${b.status}`).join(", ");
      if (summary && summary !== last) {
        log(`[demo]   batches: ${summary}`);
        last = summary;
      }
      if (Items.length > 0 && Items.every((b) => TERMINAL.has(String(b.status)))) {
        for (const b of Items) {
          const runs = Object.entries((b.glueRuns ?? {}) as Record<string, string>)
            .map(([job, id]) => `${job} ${id.slice(0, 10)}…`)
            .join(" → ");
          log(`[demo]   manifest ${b.manifest}`);
          log(`[demo]   Glue runs: ${runs || "none"}`);
          const r = b.refresh as Record<string, number> | undefined;
          log(
            r
              ? `[demo]   Snowflake ${dataset.snowflake.table}: ${r.statements} REFRESH statements, ${r.registeredNew} files registered new, ${r.registeredUpdate} updated, ${r.unregistered} unregistered`
              : `[demo]   ${b.status}: ${b.reason ?? ""}`,
          );
        }
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      "the batch did not finish within 120 s; see `npm run switchyard -- status --flow ingest`",
    );
  },
};
