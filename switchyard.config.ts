import { Config } from "@switchyard/core";

/** The demo web service's deploy; the local stage polls its rollout every 2 seconds. */
const web: Config.DeployInput = {
  repository: "web",
  tags: ["release-*"],
  // roles: the IAM roles the task definition uses; Switchyard may pass exactly these.
  services: [{ cluster: "demo", service: "web", container: "app", roles: ["demo-web-execution"] }],
};

/** The demo API's promotion; the local stage reuses it with a bake of seconds. */
const api: Config.PromotionInput = {
  name: "api",
  bucket: "demo-artifacts",
  prefix: "api/",
  function: "api",
  alias: "live",
  strategy: { type: "canary", percent: 10, bakeSeconds: 300 },
  alarms: ["api-errors"],
  onConcurrent: "supersede",
};

/**
 * Switchyard's configuration: which ECR pushes redeploy which ECS services, which
 * file drops feed which Glue jobs and Snowflake tables, and which artifact uploads
 * promote which Lambda functions. `stages` overrides any top-level field per stage;
 * `local` is the stage `npm start` runs against the emulator.
 */
export default Config.define({
  app: "switchyard",
  region: "us-east-1",
  github: {
    repository: "switchyard-dev/switchyard",
    branch: "main",
    environments: ["staging", "production"],
  },
  archive: { retentionDays: 30 },
  deploys: [web],
  datasets: [
    {
      name: "orders",
      bucket: "demo-raw",
      prefix: "orders/",
      suffix: ".csv",
      glueJobs: ["orders-clean", "orders-curate"],
      snowflake: { table: "ANALYTICS.RAW.ORDERS_EXT" },
      batching: { maxFiles: 1000, windowSeconds: 30 },
    },
  ],
  promotions: [api],
  // Key-pair auth; the PEM private key lives in Secrets Manager (or SSM: { parameterName }).
  snowflake: {
    account: "switchyard-analytics",
    user: "SWITCHYARD_INGEST",
    role: "SWITCHYARD_INGEST",
    warehouse: "INGEST_WH",
    privateKey: {
      secretArn:
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:switchyard/snowflake-private-key",
    },
  },
  stages: {
    local: {
      // The local Snowflake stand-in; `npm start` puts a fresh key pair in the emulator's SSM.
      snowflake: {
        account: "local",
        user: "SWITCHYARD_INGEST",
        privateKey: { parameterName: "/switchyard/local/snowflake/private-key" },
      },
      archive: { retentionDays: 1 },
      // Stage arrays replace the top-level ones; spread an entry to change one field.
      deploys: [{ ...web, pollSeconds: 2, rolloutTimeoutSeconds: 120 }],
      promotions: [{ ...api, strategy: { type: "canary", percent: 10, bakeSeconds: 3 } }],
    },
    production: {
      production: true,
      archive: { retentionDays: 90 },
      // Production waits for `switchyard promote approve <id>` before the final shift.
      promotions: [{ ...api, approval: true }],
    },
  },
});
