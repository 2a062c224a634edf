import { formatError, type SerializedError } from '../../../shared/errors';

/** Errors are shown verbatim, in the one format CLI and UI share. */
export function ErrorBox({ error, title }: { error: SerializedError | null | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      {title && <strong>{title}</strong>}
      <pre>{formatError(error)}</pre>
    </div>
  );
}
