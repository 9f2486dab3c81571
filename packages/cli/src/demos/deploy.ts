import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { Deploy, Events, Ledger } from "@switchyard/core";
import { pushImage } from "@switchyard/local/flows/deploy";
import type { LocalRuntime } from "@switchyard/local/runtime";
import type { Demo } from "../demos";

const TERMINAL = new Set<string>(["COMPLETED", "FAILED", "TIMED_OUT", "SUPERSEDED", "ERROR"]);

/** Pushes `repository:tag` to the emulator's ECR, puts the ECR event, follows the deploy to its verdict. */
async function pushAndFollow(
  rt: LocalRuntime,
  log: (l: string) => void,
  repository: string,
  tag: string,
) {
  const digest = await pushImage(rt.clients.ecr, repository, tag);
  log(`[demo] pushed ${repository}:${tag} (${digest.slice(0, 19)}…) and sent its ECR push event`);
  await rt.clients.events.send(
    new PutEventsCommand({
      Entries: [
        Events.Simulate.ecrPush({
          repository,
          tag,
          digest,
          region: rt.topology.region,
          account: rt.provisioned.account,
        }),
      ],
    }),
  );
  const entry = rt.config.deploys.find((d) => d.repository === repository);
  const target = entry?.services[0];
  if (!target) throw new Error(`no service is configured for repository ${repository}`);
  const key = {
    pk: Deploy.keys.service(target.cluster, target.service),
    sk: Deploy.keys.run(repository, digest),
  };
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    const { Item } = await rt.clients.doc.send(
      new GetCommand({ TableName: rt.provisioned.tables.Ledger?.name, Key: key }),
    );
    const status = String(Item?.status ?? "waiting for the handler");
    if (status !== last) {
      log(
        `[demo]   ${target.cluster}/${target.service}: ${status}${Item?.revision ? ` (revision ${Item.revision})` : ""}`,
      );
      last = status;
    }
    if (TERMINAL.has(status)) {
      const row = Deploy.Row.safeParse(Item);
      const took = row.success ? Ledger.durationSeconds(row.data) : undefined;
      log(
        `[demo]   verdict ${status}${took !== undefined ? ` after ${took}s` : ""}: ${String(Item?.reason ?? "")}${Item?.rolledBackTo ? ` (service back on ${String(Item.rolledBackTo).split("/").pop()})` : ""}`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no verdict for ${repository}:${tag} within 120 s; see \`npm run switchyard -- status --stage local\``,
  );
}

export const deployDemo: Demo = {
  flow: "deploy",
  title:
    "deploy on image push: web:release-1, then a broken image that the circuit breaker rolls back",
  async run(rt, log) {
    await pushAndFollow(rt, log, "web", "release-1");
    await pushAndFollow(rt, log, "web", "release-broken-2");
    log("[demo]   see both with `npm run switchyard -- status --stage local`");
  },
};
