/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Switchyard's SST app. Settings come from switchyard.config.ts; resources come from the
 * topology (`stacks/topology.ts`), one file per concern under stacks/, imported below in
 * dependency order. Stacks import each other's exports; nothing is auto-discovered.
 *
 * Stages:
 * - `bootstrap`: account-level GitHub OIDC provider + deploy role only; an administrator
 *   deploys it once per account (see stacks/github-oidc.ts).
 * - any other stage: the control plane. Production stages (`production: true` in the config)
 *   retain their resources and are protected from `sst remove`.
 */
export default $config({
  async app(input) {
    const { appSettings } = await import("./stacks/stages");
    const app = appSettings(input.stage);
    return {
      name: app.name,
      removal: app.removal,
      protect: app.protect,
      home: "aws",
      providers: { aws: { region: app.region } },
    };
  },
  async run() {
    const { BOOTSTRAP_STAGE } = await import("./stacks/stages");
    if ($app.stage === BOOTSTRAP_STAGE) {
      const oidc = await import("./stacks/github-oidc");
      return oidc.deploy
        ? { deployRoleArn: oidc.deploy.roleArn, oidcProviderArn: oidc.deploy.providerArn }
        : {};
    }

    const { topology } = await import("./stacks/topology");
    const bus = await import("./stacks/bus");
    const ledger = await import("./stacks/ledger");
    const dlq = await import("./stacks/dlq");
    // Flow stacks register their rule targets here, before routing (see stacks/targets.ts).
    const deploy = await import("./stacks/deploy");
    const ingest = await import("./stacks/ingest");
    const promote = await import("./stacks/promote");
    const routing = await import("./stacks/routing");

    return {
      stage: topology.stage,
      region: topology.region,
      archive: bus.archive.arn,
      ledger: ledger.ledger.name,
      rules: Object.fromEntries(Object.entries(routing.rules).map(([id, r]) => [id, r.arn])),
      skippedRules: routing.skippedRules.join(", "),
      deployWorkflow: deploy.deploy?.workflow.arn,
      ingestWorkflow: ingest.ingest?.workflow.arn,
      promoteWorkflow: promote.promote?.workflow.arn,
      deadLetterQueues: Object.fromEntries(
        Object.entries(dlq.deadLetterQueues).map(([id, q]) => [id, q.url]),
      ),
    };
  },
});
