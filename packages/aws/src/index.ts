export * from "./clients";
export * as Ecr from "./ecr";
export * as Ecs from "./ecs";
export * as Ledger from "./ledger";
export * from "./pool";
export * as Promote from "./promote";
export * as Snowflake from "./snowflake";
