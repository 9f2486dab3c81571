import { rm } from "node:fs/promises";
import { type LocalRuntime, startLocal } from "@switchyard/local/runtime";
import { localStatePath } from "../context";
import { demos } from "../demos";

export interface LocalArgs {
  endpoint?: string;
  stage: string;
  demo: boolean;
  json: boolean;
}

/**
 * `switchyard local`: runs the control plane against the local emulator until Ctrl-C.
 * Prints `ready <endpoint>` once provisioned; with `--demo`, then runs each flow's demo.
 */
export async function local(args: LocalArgs): Promise<void> {
  const started = Date.now();
  const log = args.json
    ? (line: string) =>
        process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), log: line })}\n`)
    : (line: string) => process.stdout.write(`${line}\n`);
  const rt: LocalRuntime = await startLocal({ endpoint: args.endpoint, stage: args.stage, log });
  const summary = {
    ready: true,
    endpoint: rt.endpoint,
    stepFunctions: rt.sfnEndpoint,
    stage: rt.stage,
    rules: Object.values(rt.provisioned.rules).map((r) => r.name),
    archive: rt.provisioned.archive.name,
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      `ready ${rt.endpoint} (stage ${rt.stage}, ${summary.rules.length} rules, archive ${summary.archive}, ${summary.seconds}s)\n` +
        `      state in ${localStatePath()}; Ctrl-C to stop\n`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`[local] ${signal}: stopping`);
    await rt.stop();
    await rm(localStatePath(), { force: true });
    log("[local] stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  if (args.demo) {
    const runnable = demos.filter((d) => rt.topology.rules.some((r) => r.flow === d.flow));
    if (runnable.length === 0) log("[demo] no flow demos are available in this build yet");
    for (const [i, demo] of runnable.entries()) {
      log(`[demo ${i + 1}/${runnable.length}] ${demo.title}`);
      try {
        await demo.run(rt, log);
      } catch (error) {
        log(`[demo] ${demo.flow} failed: ${(error as Error).message}`);
      }
    }
    if (runnable.length > 0)
      log(
        "[demo] done. The control plane keeps running: try `npm run switchyard -- send ecr-push --repository web --tag release-3 --stage local`, then `npm run switchyard -- status`.",
      );
  }
  // Keep running until a signal arrives.
  await new Promise(() => undefined);
}
