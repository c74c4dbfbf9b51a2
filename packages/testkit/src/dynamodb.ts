// Filled in by the dynamodb helper; see README.md.
export {};
