// Filled in by the kinesis-faults helper; see README.md.
export {};
