import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { Clients } from "../../packages/aws/src/clients";

/** Creates a table with the ledger's key schema (pk/sk strings) in the emulator. */
export async function createLedgerTable(clients: Clients, name: string): Promise<void> {
  await clients.dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
}
