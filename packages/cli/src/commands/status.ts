import { clients, Ledger } from "@switchyard/aws";
import { Deploy } from "@switchyard/core";
import { connect, UsageError } from "../context";

export interface StatusArgs {
  stage: string;
  flow?: string;
  limit: number;
  json: boolean;
}

/** One line of `switchyard status`, as `--json` prints it. */
export interface DeployStatus {
  flow: "deploy";
  at: string;
  status: Deploy.Status;
  repository?: string;
  tag?: string;
  digest?: string;
  cluster?: string;
  service?: string;
  revision?: number;
  taskDefinitionArn?: string;
  rolledBackTo?: string;
  durationSeconds?: number;
  reason?: string;
  execution?: string;
}

const FLOWS = ["deploy"] as const;

/** Rows of the ledger as `status` shows them, newest first. Rows it cannot read are counted, not hidden. */
export async function readStatus(
  table: string,
  flow: string,
  limit: number,
): Promise<{ rows: DeployStatus[]; unreadable: number }> {
  const items = await Ledger.listFlow(clients().doc, table, flow, limit);
  const rows: DeployStatus[] = [];
  let unreadable = 0;
  for (const item of items) {
    const parsed = Deploy.Row.safeParse(item);
    if (!parsed.success) {
      unreadable += 1;
      continue;
    }
    const r = parsed.data;
    rows.push({
      flow: r.flow,
      at: r.at,
      status: r.status,
      repository: r.repository,
      tag: r.tag,
      digest: r.digest,
      cluster: r.cluster,
      service: r.service,
      revision: r.revision,
      taskDefinitionArn: r.taskDefinitionArn,
      rolledBackTo: r.rolledBackTo,
      durationSeconds: Deploy.durationSeconds(r),
      reason: r.reason,
      execution: r.execution,
    });
  }
  return { rows, unreadable };
}

const short = (digest?: string) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "-");
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `switchyard status`: what the control plane did and why, newest first. */
export async function status(args: StatusArgs): Promise<void> {
  if (args.flow && !FLOWS.includes(args.flow as (typeof FLOWS)[number]))
    throw new UsageError(`unknown flow '${args.flow}'. Use one of: ${FLOWS.join(", ")}`);
  if (!Number.isInteger(args.limit) || args.limit < 1)
    throw new UsageError("--limit must be a positive whole number");
  const { resources } = connect(args.stage);
  const table = resources.Ledger?.name;
  if (typeof table !== "string")
    throw new UsageError(`the ledger is not linked on stage ${args.stage}; is the stage deployed?`);

  const flows = args.flow ? [args.flow] : [...FLOWS];
  const all: DeployStatus[] = [];
  let unreadable = 0;
  for (const flow of flows) {
    const got = await readStatus(table, flow, args.limit);
    all.push(...got.rows);
    unreadable += got.unreadable;
  }
  all.sort((a, b) => b.at.localeCompare(a.at));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ stage: args.stage, rows: all, unreadable })}\n`);
    return;
  }
  if (all.length === 0) {
    process.stdout.write(
      `nothing recorded on stage ${args.stage} yet. Push an image (or \`switchyard send ecr-push --repository <repo> --tag <tag> --stage ${args.stage}\`) and look again.\n`,
    );
    return;
  }
  const header = ["WHEN", "IMAGE", "DIGEST", "SERVICE", "REV", "VERDICT", "TOOK", "WHY"];
  const lines = all.map((r) => [
    r.at.replace("T", " ").slice(0, 19),
    `${r.repository ?? "-"}:${r.tag || "-"}`,
    short(r.digest),
    r.service ? `${r.cluster}/${r.service}` : "-",
    r.revision !== undefined ? String(r.revision) : "-",
    r.status,
    r.durationSeconds !== undefined ? `${r.durationSeconds}s` : "-",
    clip(
      r.status === "FAILED" && r.rolledBackTo
        ? `rolled back to ${r.rolledBackTo.split("/").pop()}: ${r.reason ?? ""}`
        : (r.reason ?? ""),
      70,
    ),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  for (const l of [header, ...lines])
    process.stdout.write(
      `${l
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  if (unreadable > 0)
    process.stdout.write(`(${unreadable} ledger rows could not be read; see --json)\n`);
}
