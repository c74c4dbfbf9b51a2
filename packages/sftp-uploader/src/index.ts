export type { Logger } from '@connect-wfm/core';
export {
  SftpAuthError,
  SftpBodyError,
  SftpClosedError,
  SftpConfigError,
  SftpConnectionError,
  type SftpErrorCode,
  type SftpErrorDetails,
  SftpHostKeyError,
  SftpRemoteError,
  SftpUploadError,
} from './errors.js';
export { normalizeFingerprint, sha256Fingerprint } from './fingerprint.js';
export type {
  SftpBody,
  SftpFile,
  SftpPutOutcome,
  SftpPutResult,
  SftpRetryPolicy,
  SftpUploaderOptions,
} from './types.js';
export { SftpUploader } from './uploader.js';
