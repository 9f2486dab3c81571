export * from "./pattern";
export * from "./topology";
