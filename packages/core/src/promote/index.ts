export * from "./event";
export * from "./input";
export * from "./ledger";
export * from "./plan";
