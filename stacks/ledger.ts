import { topology } from "./topology";

/**
 * The ledger records what the control plane did and why (`switchyard status`), and guards
 * idempotency and "never regress". Keys are strings; expired entries go through TTL.
 */
export const tables: Record<string, sst.aws.Dynamo> = Object.fromEntries(
  topology.tables.map((table) => {
    const keys = [
      table.partitionKey,
      table.sortKey,
      ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ];
    return [
      table.id,
      new sst.aws.Dynamo(table.id, {
        fields: Object.fromEntries(keys.map((k) => [k, "string" as const])),
        primaryIndex: { hashKey: table.partitionKey, rangeKey: table.sortKey },
        globalIndexes: Object.fromEntries(
          table.indexes.map((i) => [
            i.name,
            { hashKey: i.partitionKey, rangeKey: i.sortKey, projection: "all" as const },
          ]),
        ),
        ttl: table.ttlAttribute,
        deletionProtection: topology.production,
        transform: { table: { name: table.name } },
      }),
    ];
  }),
);

const ledgerTable = tables.Ledger;
if (!ledgerTable) throw new Error("stacks/ledger: the topology has no 'Ledger' table");

/** Link it to functions: `link: [ledger]`, read as `Resource.Ledger`. */
export const ledger: sst.aws.Dynamo = ledgerTable;
