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
  SftpLogger,
  SftpPutOutcome,
  SftpPutResult,
  SftpRetryPolicy,
  SftpUploaderOptions,
} from './types.js';
export { SftpUploader } from './uploader.js';
