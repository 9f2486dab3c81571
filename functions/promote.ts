import { Logger } from "@aws-lambda-powertools/logger";
import { clients, Promote as PromoteAws } from "@switchyard/aws";
import { Promote } from "@switchyard/core";
import type { Context } from "aws-lambda";
import { links } from "./links";

/**
 * Lambda version promotion (see DESIGN "promote"). The rule starts the `PromoteWorkflow` state
 * machine directly; these are its tasks, adapters over `@switchyard/aws` and core's `Promote`.
 *
 * `admit`: decides whether this upload runs now, waits, or is skipped (with the reason recorded).
 * `resolve`: finds an existing version with the same code, so identical code is never published twice.
 * `approval`: keeps the task token of a promotion waiting for `switchyard promote approve`.
 */

const logger = new Logger({ serviceName: "switchyard-promote" });

export async function admit(payload: unknown, context?: Context): Promise<Promote.Admission> {
  if (context) logger.addContext(context);
  const input = Promote.AdmitPayload.parse(payload);
  const settings = Promote.Settings.parse(links().PromoteConfig);
  const admission = await PromoteAws.admit(clients(), links().Ledger.name, settings, input);
  const execution = PromoteAws.executionName(input.execution);
  if (admission.action === "run")
    logger.info("promotion admitted", {
      execution,
      function: admission.function,
      alias: admission.alias,
      artifact: `s3://${admission.bucket}/${admission.key}`,
      versionId: admission.versionId,
      strategy: admission.strategy,
      supersedes: admission.takeover?.running
        ? PromoteAws.executionName(admission.takeover.execution)
        : undefined,
    });
  else
    logger.info(admission.action === "wait" ? "queued" : "skipped", {
      execution,
      reason: admission.reason,
    });
  return admission;
}

export async function resolve(payload: unknown): Promise<{ version?: string }> {
  const { function: fn, codeSha256 } = Promote.ResolvePayload.parse(payload);
  const found = await PromoteAws.resolveVersion(clients(), fn, codeSha256);
  logger.info(found.version ? "identical code: reusing version" : "new code", {
    function: fn,
    codeSha256,
    version: found.version,
  });
  return found;
}

export async function approval(payload: unknown): Promise<void> {
  const p = Promote.ApprovalPayload.parse(payload);
  await PromoteAws.recordApproval(clients(), links().Ledger.name, p);
  // The token itself stays in the ledger, out of the logs.
  logger.info("waiting for approval", {
    function: p.function,
    alias: p.alias,
    version: p.version,
    hint: "switchyard promote approve <id> (ids: switchyard status --flow promote)",
  });
}
