export * from "./event";
export * from "./ledger";
export * from "./plan";
export * from "./revision";
export * from "./input";
