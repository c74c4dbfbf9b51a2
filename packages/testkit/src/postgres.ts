// Filled in by the postgres helper; see README.md.
export {};
