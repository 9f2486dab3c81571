import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetAliasCommand } from "@aws-sdk/client-lambda";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "../../packages/core/src";
import { type LocalRuntime, REPO_ROOT, startLocal } from "../../packages/local/src/runtime";
import { demoPackage } from "../../packages/local/src/zip";
import switchyardConfig from "../../switchyard.config";
import { useEmulator } from "../support/emulator";

/** The `switchyard` CLI against a running local control plane, as a user runs it. */
const { endpoint } = useEmulator();
const run = promisify(execFile);

let rt: LocalRuntime | undefined;
let dir: string | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], stateFile: string) =>
  run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/cli/src/main.ts"), ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SWITCHYARD_STATE_FILE: stateFile,
      AWS_ENDPOINT_URL: "",
      AWS_ENDPOINT_URL_SFN: "",
    },
  });

describe("switchyard CLI", () => {
  it("sends a simulated ECR push and lists the dead letter it ends as, with its error", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    rt = await startLocal({
      endpoint,
      stateFile,
      handlers: {
        DeployHandler: async () => {
          throw new Error("service demo/web not found");
        },
      },
    });
    // Act
    const sent = await cli(
      [
        "send",
        "ecr-push",
        "--repository",
        "web",
        "--tag",
        "release-5",
        "--stage",
        "local",
        "--json",
      ],
      stateFile,
    );
    await rt.idle();
    const listed = await cli(
      ["dlq", "list", "--queue", "DeployDlq", "--stage", "local", "--json"],
      stateFile,
    );
    // Assess
    const event = JSON.parse(sent.stdout) as {
      eventId: string;
      source: string;
      detail: Record<string, string>;
    };
    expect(event.source).toBe("switchyard.simulated");
    expect(event.detail["image-tag"]).toBe("release-5");
    const report = JSON.parse(listed.stdout) as {
      queues: {
        queue: string;
        waiting: number;
        messages: { error: string; body: { detail: Record<string, string> } }[];
      }[];
    };
    expect(report.queues).toHaveLength(1);
    expect(report.queues[0]?.waiting).toBe(1);
    expect(report.queues[0]?.messages[0]?.error).toBe("service demo/web not found");
    expect(report.queues[0]?.messages[0]?.body.detail["image-digest"]).toBe(
      event.detail["image-digest"],
    );
  });

  it.each([
    { args: ["send", "ecr-push", "--stage", "local"], message: /send ecr-push needs --repository/ },
    {
      args: ["send", "nonsense", "--stage", "local"],
      message: /unknown event kind 'nonsense'. Use one of/,
    },
    {
      args: ["dlq", "list", "--queue", "Nope", "--stage", "local"],
      message: /'Nope' is not a dead-letter queue of stage local. Known: DeployDlq/,
    },
  ])("explains what to do for `$args`", async ({ args, message }) => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    rt = await startLocal({ endpoint, stateFile, handlers: {} });
    // Act
    const failure = await cli(args, stateFile).catch((e: { code: number; stderr: string }) => e);
    // Assess
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(message);
  });

  it("tells the user to start the control plane when it is not running", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    // Act
    const failure = await cli(["dlq", "list", "--stage", "local"], join(dir, "absent.json")).catch(
      (e: { code: number; stderr: string }) => e,
    );
    // Assess
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /not running. Start it with `npm start`/,
    );
  });

  it("shows a deploy sent with `send ecr-push` in `status`, with image, service, revision, verdict and duration", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    rt = await startLocal({ endpoint, stateFile, timeScale: 0.01 });

    // Act
    await cli(
      ["send", "ecr-push", "--repository", "web", "--tag", "release-8", "--stage", "local"],
      stateFile,
    );
    await rt.idle(60_000);
    const json = await cli(["status", "--stage", "local", "--json"], stateFile);
    const table = await cli(["status", "--stage", "local"], stateFile);

    // Assess
    const { rows } = JSON.parse(json.stdout) as { rows: Record<string, unknown>[] };
    expect(rows).toEqual([
      expect.objectContaining({
        flow: "deploy",
        status: "COMPLETED",
        repository: "web",
        tag: "release-8",
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        cluster: "demo",
        service: "web",
        revision: 2,
        durationSeconds: expect.any(Number),
      }),
    ]);
    const [header, line] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^WHEN\s+IMAGE\s+DIGEST\s+SERVICE\s+REV\s+VERDICT\s+TOOK\s+WHY$/);
    expect(line).toMatch(/web:release-8\s+[0-9a-f]{12}\s+demo\/web\s+2\s+COMPLETED\s+[\d.]+s/);
  });

  it("refuses an unknown flow in `status` with exit 2 and the flows it knows", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    rt = await startLocal({ endpoint, stateFile });

    // Act
    const failed = await cli(["status", "--flow", "ingset", "--stage", "local"], stateFile).catch(
      (e: { code: number; stderr: string }) => e,
    );

    // Assess
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown flow 'ingset'. Use one of: deploy, ingest"),
    });
  });

  it("shows an ingest batch in `status --flow ingest` with its files, Glue runs and Snowflake result", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    rt = await startLocal({ endpoint, stateFile, timeScale: 0.01 });

    // Act
    for (const key of ["orders/2026/11/23/a.csv", "orders/2026/11/24/b.csv"])
      await rt.clients.s3.send(new PutObjectCommand({ Bucket: "demo-raw", Key: key, Body: "x" }));
    await rt.idle(60_000);
    const json = await cli(["status", "--flow", "ingest", "--stage", "local", "--json"], stateFile);
    const table = await cli(["status", "--flow", "ingest", "--stage", "local"], stateFile);

    // Assess
    const { rows } = JSON.parse(json.stdout) as { rows: Record<string, unknown>[] };
    expect(rows).toEqual([
      expect.objectContaining({
        flow: "ingest",
        status: "INGESTED",
        dataset: "orders",
        files: 2,
        glueRuns: { "orders-clean": expect.any(String), "orders-curate": expect.any(String) },
        refresh: { statements: 2, registeredNew: 2, registeredUpdate: 0, unregistered: 0 },
        durationSeconds: expect.any(Number),
      }),
    ]);
    expect(table.stdout).toMatch(/orders\s+2\s+2\s+2 stmt, \+2 ~0 -0\s+INGESTED/);
  });

  it("approves a waiting promotion by its id from `status --flow promote`, then rolls it back with `promote rollback`", async () => {
    // Prepare: the local api promotion, with approval required
    dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
    const stateFile = join(dir, "local.json");
    const base = switchyardConfig as Config.ConfigInput;
    const api = base.stages?.local?.promotions?.[0] as Config.PromotionInput;
    const config = {
      ...base,
      stages: {
        ...base.stages,
        local: { ...base.stages?.local, promotions: [{ ...api, approval: true }] },
      },
    };
    rt = await startLocal({ endpoint, stateFile, config, timeScale: 0.01 });
    const r = rt;
    await r.clients.s3.send(
      new PutObjectCommand({
        Bucket: "demo-artifacts",
        Key: "api/build-2.zip",
        Body: demoPackage("build-2"),
      }),
    );
    let waiting: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !waiting; i++) {
      const { rows } = JSON.parse(
        (await cli(["status", "--flow", "promote", "--stage", "local", "--json"], stateFile))
          .stdout,
      ) as { rows: Record<string, unknown>[] };
      waiting = rows.find((x) => x.status === "AWAITING_APPROVAL");
      if (!waiting) await new Promise((res) => setTimeout(res, 100));
    }
    expect(waiting).toMatchObject({ function: "api", alias: "live", version: "2", percent: 10 });
    expect(JSON.stringify(waiting)).not.toMatch(/approvalToken/);

    // Act
    const approved = await cli(
      ["promote", "approve", String(waiting?.id), "--stage", "local", "--json"],
      stateFile,
    );
    await r.idle(30_000);
    const promoted = await cli(["status", "--flow", "promote", "--stage", "local"], stateFile);
    const rolledBack = await cli(
      ["promote", "rollback", "--function", "api", "--stage", "local", "--json"],
      stateFile,
    );
    const unknown = await cli(
      ["promote", "rollback", "--function", "nope", "--stage", "local"],
      stateFile,
    ).catch((e: { code: number; stderr: string }) => e);

    // Assess
    expect(JSON.parse(approved.stdout)).toMatchObject({
      action: "approve",
      function: "api",
      version: "2",
    });
    expect(promoted.stdout).toMatch(/api:live\s+1 → 2\s+100%\s+PROMOTED/);
    expect(JSON.parse(rolledBack.stdout)).toEqual({
      function: "api",
      alias: "live",
      from: "2",
      to: "1",
    });
    const alias = await r.clients.lambda.send(
      new GetAliasCommand({ FunctionName: "api", Name: "live" }),
    );
    expect(alias.FunctionVersion).toBe("1");
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "function 'nope' is not promoted by Switchyard (configured: api:live)",
      ),
    });
  });
});
