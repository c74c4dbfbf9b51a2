// Filled in by the kms helper; see README.md.
export {};
