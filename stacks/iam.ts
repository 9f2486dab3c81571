import type { Topology } from "@switchyard/core";

/**
 * Turns the topology's IAM statements into policies. Statements come from pure code
 * (`packages/core/src/topology`) with `{partition}`, `{region}` and `{account}` placeholders and
 * `ref:<id>` for the ARN of one of the app's own resources; here they get real values.
 * A statement with Resource `*` must carry the topology's `wildcardReason`; its Sid says so.
 */

const partition = aws.getPartitionOutput({}).partition;
const region = aws.getRegionOutput({}).name;
const account = aws.getCallerIdentityOutput({}).accountId;

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** IAM Sids are alphanumeric. */
const sid = (owner: string, i: number, s: Topology.Statement) =>
  `${owner}${s.wildcardReason ? "WildcardRequired" : ""}${i}`.replace(/[^A-Za-z0-9]/g, "");

/**
 * The statements of `owner` (a topology function or state machine id) with every placeholder and
 * `ref:` resolved; `refs` maps the referenced ids to their ARNs. Fails the deploy when a
 * statement references an id that `refs` lacks, naming it.
 */
export function statements(
  owner: string,
  list: readonly Topology.Statement[],
  refs: Record<string, $util.Input<string>>,
): $util.Output<PolicyStatement[]> {
  return $resolve({
    partition,
    region,
    account,
    refs: $resolve(refs as Record<string, $util.Input<string>>),
  }).apply((v) => {
    const expand = (resource: string) => {
      const ref = /^ref:([A-Za-z0-9]+)(.*)$/.exec(resource);
      if (ref) {
        const arn = (v.refs as Record<string, string>)[ref[1] ?? ""];
        if (!arn)
          throw new Error(
            `stacks/iam: ${owner}'s policy references '${ref[1]}', which the stack did not pass. Fix: add it to the refs of statements("${owner}", ...)`,
          );
        return `${arn}${ref[2] ?? ""}`;
      }
      return resource
        .replaceAll("{partition}", v.partition)
        .replaceAll("{region}", v.region)
        .replaceAll("{account}", v.account);
    };
    return list.map((s, i) => ({
      Sid: sid(owner, i, s),
      Effect: "Allow" as const,
      Action: [...s.actions],
      Resource: s.resources.map(expand),
      ...(s.condition ? { Condition: s.condition } : {}),
    }));
  });
}

type FunctionPermission = {
  actions: string[];
  resources: $util.Input<$util.Input<string>[]>;
  conditions?: { test: string; variable: string; values: string[] }[];
};

/** The same statements as `sst.aws.Function` permissions. */
export function functionPermissions(
  owner: string,
  list: readonly Topology.Statement[],
  refs: Record<string, $util.Input<string>>,
): FunctionPermission[] {
  const resolved = statements(owner, list, refs);
  return list.map((s, i) => ({
    actions: [...s.actions],
    resources: resolved.apply((all) => all[i]?.Resource ?? []),
    conditions: Object.entries(s.condition ?? {}).flatMap(([test, vars]) =>
      Object.entries(vars).map(([variable, values]) => ({
        test,
        variable,
        values: Array.isArray(values) ? values : [values],
      })),
    ),
  }));
}

/** A role a service assumes, trusted only from this account. */
export function serviceRole(name: string, service: string, roleName: string, description: string) {
  return new aws.iam.Role(name, {
    name: roleName,
    description,
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: service },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": account } },
        },
      ],
    }),
  });
}
