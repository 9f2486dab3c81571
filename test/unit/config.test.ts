import { describe, expect, it } from "vitest";
import { Config } from "../../packages/core/src";
import projectConfig from "../../switchyard.config";

/** A minimal valid config; cases below break one field at a time. */
const valid = () => ({
  app: "switchyard",
  deploys: [
    {
      repository: "web",
      tags: ["release-*"],
      services: [{ cluster: "demo", service: "web", container: "app" }],
    },
  ],
  datasets: [
    {
      name: "orders",
      bucket: "demo-raw",
      prefix: "orders/",
      suffix: ".csv",
      glueJobs: ["orders-clean"],
      snowflake: { table: "ANALYTICS.RAW.ORDERS_EXT" },
    },
  ],
  promotions: [
    {
      name: "api",
      bucket: "demo-artifacts",
      prefix: "api/",
      function: "api",
      alias: "live",
      strategy: { type: "canary", percent: 10, bakeSeconds: 60 },
    },
  ],
  snowflake: {
    account: "acme-analytics",
    user: "SWITCHYARD",
    privateKey: { parameterName: "/switchyard/snowflake/private-key" },
  },
});

type Mutate = (c: ReturnType<typeof valid>) => unknown;

const bad: { name: string; mutate: Mutate; stage?: string; path: string; fix: RegExp }[] = [
  {
    name: "datasets without a Snowflake connection",
    mutate: ({ snowflake: _s, ...c }) => c,
    path: "snowflake",
    fix: /Fix: add snowflake: \{ account, user, privateKey/,
  },
  {
    name: "a Snowflake private key given inline instead of by location",
    mutate: (c) => ({ ...c, snowflake: { ...c.snowflake, privateKey: { pem: "-----BEGIN" } } }),
    path: "snowflake.privateKey",
    fix: /exactly one of \{ secretArn \} or \{ parameterName \}/,
  },
  {
    name: "misspelt top-level field",
    mutate: (c) => ({ ...c, datasetz: [] }),
    path: "datasetz",
    fix: /did you mean 'datasets'/,
  },
  {
    name: "misspelt nested field",
    mutate: (c) => ({
      ...c,
      deploys: [
        { ...c.deploys[0], services: [{ cluster: "demo", servce: "web", container: "app" }] },
      ],
    }),
    path: "deploys[0].services[0].servce",
    fix: /did you mean 'service'/,
  },
  {
    name: "missing field",
    mutate: (c) => ({ ...c, deploys: [{ repository: "web", tags: ["x"] }] }),
    path: "deploys[0].services",
    fix: /Fix: add this field/,
  },
  {
    name: "ECR URI instead of name",
    mutate: (c) => ({
      ...c,
      deploys: [{ ...c.deploys[0], repository: "123.dkr.ecr.us-east-1.amazonaws.com/web" }],
    }),
    path: "deploys[0].repository",
    fix: /not its URI/,
  },
  {
    name: "s3 URL instead of bucket",
    mutate: (c) => ({ ...c, datasets: [{ ...c.datasets[0], bucket: "s3://demo-raw" }] }),
    path: "datasets[0].bucket",
    fix: /not an s3:\/\/ URL/,
  },
  {
    name: "prefix without slash",
    mutate: (c) => ({ ...c, datasets: [{ ...c.datasets[0], prefix: "orders" }] }),
    path: "datasets[0].prefix",
    fix: /end the prefix with a slash/,
  },
  {
    name: "SQL injection in Snowflake table",
    mutate: (c) => ({
      ...c,
      datasets: [{ ...c.datasets[0], snowflake: { table: "A.B.C; DROP TABLE X" } }],
    }),
    path: "datasets[0].snowflake.table",
    fix: /unquoted Snowflake identifiers/,
  },
  {
    name: "unknown strategy",
    mutate: (c) => ({
      ...c,
      promotions: [{ ...c.promotions[0], strategy: { type: "blue-green" } }],
    }),
    path: "promotions[0].strategy.type",
    fix: /Fix:/,
  },
  {
    name: "canary over 99%",
    mutate: (c) => ({
      ...c,
      promotions: [
        { ...c.promotions[0], strategy: { type: "canary", percent: 100, bakeSeconds: 5 } },
      ],
    }),
    path: "promotions[0].strategy.percent",
    fix: /Fix:/,
  },
  {
    name: "duplicate dataset names",
    mutate: (c) => ({ ...c, datasets: [c.datasets[0], { ...c.datasets[0], prefix: "other/" }] }),
    path: "datasets",
    fix: /unique name/,
  },
  {
    name: "artifact prefix overlapping a dataset",
    mutate: (c) => ({
      ...c,
      promotions: [{ ...c.promotions[0], bucket: "demo-raw", prefix: "orders/" }],
    }),
    path: "promotions[0].prefix",
    fix: /separate prefixes/,
  },
  {
    name: "bad field inside a stage override",
    mutate: (c) => ({ ...c, stages: { dev: { archive: { retentionDayz: 3 } } } }),
    path: "stages.dev.archive.retentionDayz",
    fix: /did you mean 'retentionDays'/,
  },
  {
    name: "invalid stage name",
    mutate: (c) => c,
    stage: "Prod_1",
    path: "stage",
    fix: /lowercase/,
  },
];

describe("Config.load", () => {
  it("accepts the project's own switchyard.config.ts for every stage it names", () => {
    // Prepare
    const stages = ["local", "dev", "production"];
    // Act
    const resolved = stages.map((stage) => Config.load(projectConfig, stage));
    // Assess
    expect(resolved.map((r) => r.production)).toEqual([false, false, true]);
    expect(resolved[0]?.promotions[0]?.strategy).toEqual({
      type: "canary",
      percent: 10,
      bakeSeconds: 3,
    });
    expect(resolved[2]?.archive.retentionDays).toBe(90);
  });

  it.each(bad)("rejects $name, naming $path and a fix", ({ mutate, stage, path, fix }) => {
    // Prepare
    const input = mutate(valid());
    // Act
    const attempt = () => Config.load(input, stage ?? "dev");
    // Assess
    expect(attempt).toThrow(Config.ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as Config.ConfigError).problems;
      const problem = problems.find((p) => p.path === path);
      expect(problem, `problems were: ${JSON.stringify(problems)}`).toBeDefined();
      expect(problem?.message).toMatch(fix);
      expect((error as Error).message).toContain(path);
    }
  });

  it("applies defaults and stage overrides (arrays replace, objects merge)", () => {
    // Prepare
    const input = {
      ...valid(),
      archive: { retentionDays: 7 },
      stages: { staging: { archive: { retentionDays: 14 }, datasets: [] } },
    };
    // Act
    const staging = Config.load(input, "staging");
    const dev = Config.load(input, "dev");
    // Assess
    expect(staging.archive.retentionDays).toBe(14);
    expect(staging.datasets).toEqual([]);
    expect(dev.datasets[0]?.batching).toEqual({ maxFiles: 1000, windowSeconds: 30 });
    expect(dev.deploys[0]?.rolloutTimeoutSeconds).toBe(1800);
    expect(dev.production).toBe(false);
  });

  it("treats the stage named production as production unless told otherwise", () => {
    // Act
    const prod = Config.load(valid(), "production");
    const notProd = Config.load(
      { ...valid(), stages: { production: { production: false } } },
      "production",
    );
    // Assess
    expect(prod.production).toBe(true);
    expect(notProd.production).toBe(false);
  });
});
