// Filled in by the rta-receiver helper; see README.md.
export {};
