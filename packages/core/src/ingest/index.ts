export * from "./batch";
export * from "./event";
export * from "./input";
export * from "./ledger";
