export * as Config from "./config";
export * as Deploy from "./deploy";
export * as Events from "./events";
export * as Ingest from "./ingest";
export * as Ledger from "./ledger";
export * as Snowflake from "./snowflake";
export * as Topology from "./topology";
export * as Workflow from "./workflow";
