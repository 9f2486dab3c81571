import { userInfo } from "node:os";
import { clients, Promote as PromoteAws } from "@switchyard/aws";
import { loadProjectConfig } from "@switchyard/local/runtime";
import { connect, UsageError } from "../context";

export interface PromoteArgs {
  action: string;
  stage: string;
  /** approve / reject: the execution id `switchyard status --flow promote` shows. */
  id?: string;
  function?: string;
  alias?: string;
  reason?: string;
  json: boolean;
}

const operator = () => process.env.SWITCHYARD_OPERATOR || userInfo().username || "operator";

/**
 * `switchyard promote approve <id>` / `reject <id> [--reason …]`: answers a promotion waiting for
 * approval before its final shift. `switchyard promote rollback --function <name> [--alias …]`:
 * puts the alias back on its previous version now (stopping a promotion in progress).
 */
export async function promote(args: PromoteArgs): Promise<void> {
  const { resources } = connect(args.stage);
  const table = resources.Ledger?.name;
  if (typeof table !== "string")
    throw new UsageError(`the ledger is not linked on stage ${args.stage}; is the stage deployed?`);
  const out = (json: unknown, text: string) =>
    process.stdout.write(args.json ? `${JSON.stringify(json)}\n` : `${text}\n`);

  switch (args.action) {
    case "approve":
    case "reject": {
      if (!args.id)
        throw new UsageError(
          `usage: switchyard promote ${args.action} <id> --stage ${args.stage}. The ids of promotions waiting for approval are in \`switchyard status --flow promote\` (status AWAITING_APPROVAL).`,
        );
      const approve = args.action === "approve";
      let answered: Awaited<ReturnType<typeof PromoteAws.answerApproval>>;
      try {
        answered = await PromoteAws.answerApproval(
          clients(),
          table,
          args.id,
          approve
            ? { approve: true, by: operator() }
            : { approve: false, by: operator(), reason: args.reason ?? "no reason given" },
        );
      } catch (error) {
        if ((error as Error).message.startsWith("no promotion is waiting"))
          throw new UsageError((error as Error).message);
        throw error;
      }
      out(
        { action: args.action, ...answered },
        approve
          ? `approved: ${answered.function}:${answered.alias} moves entirely to version ${answered.version}. Follow it with \`switchyard status --flow promote\`.`
          : `rejected: ${answered.function}:${answered.alias} goes back to its previous version.`,
      );
      return;
    }
    case "rollback": {
      if (!args.function)
        throw new UsageError(
          `usage: switchyard promote rollback --function <name> [--alias <alias>] --stage ${args.stage}`,
        );
      const config = await loadProjectConfig(args.stage);
      try {
        const result = await PromoteAws.rollback(
          clients(),
          table,
          { promotions: config.promotions },
          { function: args.function, alias: args.alias, by: operator() },
        );
        out(
          result,
          `${result.function}:${result.alias} is back on version ${result.to} (was ${result.from})${
            result.stopped ? `; stopped promotion ${PromoteAws.executionName(result.stopped)}` : ""
          }.`,
        );
      } catch (error) {
        if (/is not promoted by Switchyard|no earlier version/.test((error as Error).message))
          throw new UsageError((error as Error).message);
        throw error;
      }
      return;
    }
    default:
      throw new UsageError(
        `unknown action 'promote ${args.action}'. Use: promote approve <id> | promote reject <id> | promote rollback --function <name>`,
      );
  }
}
