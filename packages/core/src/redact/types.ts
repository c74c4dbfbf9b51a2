/** Options of {@link redactSecrets} and {@link sanitizeCause}. */
export interface RedactOptions {
  /**
   * Secrets shorter than this many characters (UTF-16 code units) are replaced only where they
   * stand as a whole token, that is not next to a letter, digit or underscore of any script; longer
   * secrets are replaced wherever they occur. A one-letter test password then does not turn
   * "Upload" into "U[redacted]load" (which would also hint at the password). `0` replaces every
   * secret wherever it occurs, whatever its length.
   *
   * @default 8 ({@link SUBSTRING_REDACTION_MIN})
   */
  wholeTokenBelow?: number;
}
