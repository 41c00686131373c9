// Small building blocks every page uses: states (loading, empty, error) and form fields.
import { cloneElement, useId, type ReactElement, type ReactNode } from "react";
import type { FieldError as FormFieldError } from "react-hook-form";
import { ApiError } from "../api";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A failed request, in the API's own words (problem+json detail). */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      {text}
    </div>
  );
}

/** A labelled control: the label names it alone (hint and error describe it), so screen readers
 * and tests find "Password", not "Password At least 10 characters". */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: FormFieldError | string;
  hint?: string;
  children: ReactElement;
}) {
  const id = useId();
  const msg = typeof error === "string" ? error : error?.message;
  const control = cloneElement(children, {
    id,
    "aria-invalid": msg ? true : undefined,
    "aria-describedby": msg || hint ? `${id}-d` : undefined,
  });
  return (
    <div className={`field${msg ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {msg ? (
        <small id={`${id}-d`} className="field-error" role="alert">
          {msg}
        </small>
      ) : hint ? (
        <small id={`${id}-d`} className="muted">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

export function Card({ title, children, actions }: { title?: ReactNode; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      {(title || actions) && (
        <header>
          {title && <h2>{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

/** A list page's body: its error, loading, an empty state, or the table in a card. */
export function Listing({ pending, error, count, empty, children }: { pending: boolean; error: unknown; count: number; empty: ReactNode; children: ReactNode }) {
  return (
    <>
      <ErrorBox error={error} />
      {pending ? (
        <Loading />
      ) : !count ? (
        <Empty>{empty}</Empty>
      ) : (
        <Card>
          <div className="scroll">{children}</div>
        </Card>
      )}
    </>
  );
}
