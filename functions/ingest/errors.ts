/** The file as a whole cannot be read (empty, binary, wrong format, missing columns). */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
}

/** The caller asked for something that does not exist (unknown kind or profile). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A mapping profile or other configuration failed validation; `path` names the bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
