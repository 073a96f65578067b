/**
 * Errors as one line: what happened (the kernel's or server's own sentence) and,
 * for the codes a person can act on, what to do about it.
 */

const HINTS: Readonly<Record<string, string>> = {
  budget_exhausted: 'Ask whoever runs this server to raise the budget, or wait until it resets.',
  rate_limited: 'Wait a moment, then ask again.',
  upstream_failed: 'The model service did not answer: try again in a minute.',
  model_not_allowed: 'Pick an allowed model (DSAgent.model) or ask the server admin.',
  token_limit: 'Ask a shorter question, or about a smaller DataFrame.',
  unauthorized: 'Reload the page to sign in again.',
  kernel_gone: 'Check that the kernel is running, then ask again.',
  interrupted: 'Ask again to get a complete answer.',
  internal_error: 'The kernel log has the details.',
  too_large: 'Split the file, or ask for a higher DSAgent.max_upload_bytes.',
  type_not_allowed: 'Upload CSV, TSV, JSON, Parquet, XLSX, ZIP or an image.',
};

/** The hint for an error code, or an empty string. */
export function hintFor(code: string): string {
  return HINTS[code] ?? '';
}

/** "message — hint" on one line. */
export function oneLine(error: { code: string; message: string }): string {
  const message = error.message.replace(/\s+/g, ' ').trim();
  const hint = hintFor(error.code);
  return hint ? `${message} ${hint}` : message;
}

/** A caught value as a sentence: an Error's own message, anything else as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
