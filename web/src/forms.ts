// What every form does on submit: clear the last error, call the API, and put what the server
// refused at the field it names (problem+json errors[]), or above the form when no field matches.
import { useState } from "react";
import type { FieldValues, Path, UseFormReturn, UseFormSetError } from "react-hook-form";
import { ApiError } from "./api";

/** Puts the server's field errors on the form's fields; true when any was placed. */
export function placeErrors<T extends FieldValues>(err: unknown, setError: UseFormSetError<T>, fields: string[]): boolean {
  if (!(err instanceof ApiError)) return false;
  let placed = false;
  for (const e of err.errors) {
    const at = e.field.replace(/^\//, "");
    const f = fields.find((n) => at === n || at.startsWith(`${n}/`));
    if (f) {
      setError(f as Path<T>, { type: "server", message: e.message });
      placed = true;
    }
  }
  return placed;
}

/** onSubmit for <form>, and the error to show above it. */
export function useSubmit<T extends FieldValues>(f: UseFormReturn<T>, fields: string[], fn: (v: T) => Promise<unknown>) {
  const [error, setError] = useState<unknown>(null);
  const onSubmit = f.handleSubmit(async (v) => {
    setError(null);
    try {
      await fn(v);
    } catch (e) {
      if (!placeErrors(e, f.setError, fields)) setError(e);
    }
  });
  return { onSubmit, error };
}
