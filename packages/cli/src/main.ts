#!/usr/bin/env node
// The deployed runtime is nodejs22.x; the SDK's Node 20 notice is noise for local use.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { parseArgs } from "node:util";
import { Config } from "@switchyard/core";
import { UsageError } from "./context";

const USAGE = `switchyard — event-driven control plane for AWS

Usage:
  switchyard local [--demo] [--endpoint URL] [--stage local] [--json]
      Run the control plane against the local AWS emulator until Ctrl-C.
  switchyard send ecr-push --repository NAME [--tag TAG] [--digest sha256:…] --stage STAGE [--json]
  switchyard send object-created|artifact --bucket NAME --key KEY [--size N] --stage STAGE [--json]
      Put a real-shaped event with source switchyard.simulated (non-production stages only).
  switchyard status [--flow deploy|ingest|promote] [--limit N] --stage STAGE [--json]
      What the control plane did and why, newest first: deploys, ingest batches and
      promotions with their verdicts and durations, and each skipped event with its reason.
  switchyard dlq list [--queue ID] [--limit N] --stage STAGE [--json]
      Dead letters per DLQ; with --queue, the first ones with their original event and error.
  switchyard promote approve|reject ID [--reason TEXT] --stage STAGE [--json]
      Answer a promotion waiting for approval (ids: \`status --flow promote\`).
  switchyard promote rollback --function NAME [--alias NAME] --stage STAGE [--json]
      Put the alias back on its previous version now, stopping a promotion in progress.

Deployed stages: run through SST so resources are linked, e.g.
  npx sst shell --stage dev -- npx tsx packages/cli/src/main.ts send ecr-push --repository web --tag release-7 --stage dev
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      json: { type: "boolean", default: false },
      demo: { type: "boolean", default: false },
      stage: { type: "string" },
      endpoint: { type: "string" },
      repository: { type: "string" },
      tag: { type: "string" },
      digest: { type: "string" },
      bucket: { type: "string" },
      key: { type: "string" },
      size: { type: "string" },
      "version-id": { type: "string" },
      queue: { type: "string" },
      limit: { type: "string" },
      flow: { type: "string" },
      function: { type: "string" },
      alias: { type: "string" },
      reason: { type: "string" },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case "local": {
      const { local } = await import("./commands/local");
      return local({
        endpoint: values.endpoint,
        stage: values.stage ?? "local",
        demo: values.demo ?? false,
        json: values.json ?? false,
      });
    }
    case "send": {
      const { send } = await import("./commands/send");
      return send({
        kind: sub ?? "",
        stage: values.stage ?? "local",
        json: values.json ?? false,
        repository: values.repository,
        tag: values.tag,
        digest: values.digest,
        bucket: values.bucket,
        key: values.key,
        size: values.size,
        versionId: values["version-id"],
      });
    }
    case "status": {
      const { status } = await import("./commands/status");
      return status({
        stage: values.stage ?? "local",
        flow: values.flow,
        limit: Number(values.limit ?? 20),
        json: values.json ?? false,
      });
    }
    case "dlq": {
      const { dlq } = await import("./commands/dlq");
      return dlq({
        action: sub ?? "list",
        stage: values.stage ?? "local",
        queue: values.queue,
        limit: Number(values.limit ?? 10),
        json: values.json ?? false,
      });
    }
    case "promote": {
      const { promote } = await import("./commands/promote");
      return promote({
        action: sub ?? "",
        id: positionals[2],
        stage: values.stage ?? "local",
        function: values.function,
        alias: values.alias,
        reason: values.reason,
        json: values.json ?? false,
      });
    }
    default:
      throw new UsageError(`unknown command '${command}'. Run \`switchyard --help\`.`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof Config.ConfigError) {
    process.stderr.write(`switchyard: ${error.message}\n`);
    process.exit(2);
  }
  const e = error as Error;
  process.stderr.write(`switchyard: ${e.name}: ${e.message}\n`);
  if (process.env.SWITCHYARD_DEBUG) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write("(set SWITCHYARD_DEBUG=1 for the stack trace)\n");
  process.exit(1);
});
