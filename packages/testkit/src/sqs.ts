// Filled in by the sqs helper; see README.md.
export {};
