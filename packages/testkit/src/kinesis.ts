// Filled in by the kinesis helper; see README.md.
export {};
