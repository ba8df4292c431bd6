// The package's entry for `import … from "@wasmvoice/mediaserver-as"`:
// asc resolves a package import to its index.ts.
export * from "./assembly/index";
