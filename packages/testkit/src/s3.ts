// Filled in by the s3 helper; see README.md.
export {};
