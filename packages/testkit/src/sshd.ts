// Filled in by the sshd helper; see README.md.
export {};
