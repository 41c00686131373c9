// Sign up, log in, forgot and reset password. Forms are React Hook Form + Zod; what the server
// refuses comes back at the field it names (problem+json errors[]) or above the form (detail).
import { zodResolver } from "@hookform/resolvers/zod";
import { useState, type ReactNode } from "react";
import { useForm, type FieldError, type Path, type UseFormReturn } from "react-hook-form";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router-dom";
import { z } from "zod";
import { api } from "../api";
import { useSubmit } from "../forms";
import { useAuth } from "../auth";
import { ErrorBox, Field } from "../components/ui";

const email = z.string().trim().min(1, "Enter your email").email("Enter a valid email address");
const password = z.string().min(10, "At least 10 characters").max(256, "At most 256 characters");

/** First and last name, side by side (sign up, settings). */
export function NameFields<T extends { first_name?: string; last_name?: string }>({ f }: { f: UseFormReturn<T> }) {
  const errors = f.formState.errors as { first_name?: FieldError; last_name?: FieldError };
  return (
    <div className="row2">
      <Field label="First name" error={errors.first_name}>
        <input autoComplete="given-name" {...f.register("first_name" as Path<T>)} />
      </Field>
      <Field label="Last name" error={errors.last_name}>
        <input autoComplete="family-name" {...f.register("last_name" as Path<T>)} />
      </Field>
    </div>
  );
}

/** A new password typed twice (sign up, reset). */
function NewPassword<T extends { password: string; confirm: string }>({ f, label }: { f: UseFormReturn<T>; label: string }) {
  const errors = f.formState.errors as { password?: FieldError; confirm?: FieldError };
  return (
    <>
      <Field label={label} error={errors.password} hint="At least 10 characters">
        <input type="password" autoComplete="new-password" {...f.register("password" as Path<T>)} />
      </Field>
      <Field label="Password again" error={errors.confirm}>
        <input type="password" autoComplete="new-password" {...f.register("confirm" as Path<T>)} />
      </Field>
    </>
  );
}

function AuthFrame({ title, children, foot }: { title: string; children: ReactNode; foot?: ReactNode }) {
  return (
    <div className="auth">
      <main id="main" className="auth-card">
        <h1>
          <img src="/favicon.svg" alt="" width={28} height={28} /> ApexTrade
        </h1>
        <h2>{title}</h2>
        {children}
        {foot && <p className="muted small">{foot}</p>}
      </main>
    </div>
  );
}

const loginSchema = z.object({ email, password: z.string().min(1, "Enter your password") });
type LoginForm = z.infer<typeof loginSchema>;

export function LoginPage() {
  const { user, signIn } = useAuth();
  const loc = useLocation();
  const next = (loc.state as { next?: string } | null)?.next ?? "/";
  const f = useForm<LoginForm>({ resolver: zodResolver(loginSchema) });
  const { onSubmit, error } = useSubmit(f, [], (v) => signIn(v.email, v.password));
  if (user) return <Navigate to={next} replace />;
  return (
    <AuthFrame
      title="Log in"
      foot={
        <>
          New here? <Link to="/signup">Create an account</Link> · <Link to="/forgot">Forgot your password?</Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit}>
        <ErrorBox error={error} />
        <Field label="Email" error={f.formState.errors.email}>
          <input type="email" autoComplete="username" autoFocus {...f.register("email")} />
        </Field>
        <Field label="Password" error={f.formState.errors.password}>
          <input type="password" autoComplete="current-password" {...f.register("password")} />
        </Field>
        <button className="primary" disabled={f.formState.isSubmitting}>
          {f.formState.isSubmitting ? "Logging in…" : "Log in"}
        </button>
      </form>
    </AuthFrame>
  );
}

const signupSchema = z
  .object({
    first_name: z.string().trim().max(100).optional(),
    last_name: z.string().trim().max(100).optional(),
    email,
    password,
    confirm: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords differ" });
type SignupForm = z.infer<typeof signupSchema>;

export function SignupPage() {
  const { user, signUp } = useAuth();
  const f = useForm<SignupForm>({ resolver: zodResolver(signupSchema) });
  const { onSubmit, error } = useSubmit(f, ["email", "password", "first_name", "last_name"], (v) =>
    signUp(v.email, v.password, v.first_name, v.last_name),
  );
  if (user) return <Navigate to="/" replace />;
  return (
    <AuthFrame title="Create your account" foot={<>Already registered? <Link to="/login">Log in</Link></>}>
      <form noValidate onSubmit={onSubmit}>
        <ErrorBox error={error} />
        <NameFields f={f} />
        <Field label="Email" error={f.formState.errors.email}>
          <input type="email" autoComplete="email" {...f.register("email")} />
        </Field>
        <NewPassword f={f} label="Password" />
        <button className="primary" disabled={f.formState.isSubmitting}>
          {f.formState.isSubmitting ? "Creating…" : "Sign up"}
        </button>
      </form>
    </AuthFrame>
  );
}

export function ForgotPage() {
  const [sent, setSent] = useState(false);
  const f = useForm<{ email: string }>({ resolver: zodResolver(z.object({ email })) });
  const { onSubmit, error } = useSubmit(f, ["email"], async (v) => {
    await api("POST", "/auth/forgot", { email: v.email });
    setSent(true);
  });
  return (
    <AuthFrame title="Reset your password" foot={<Link to="/login">Back to log in</Link>}>
      {sent ? (
        <p role="status">
          If an account has this address, an email with a reset token is on its way (valid 30 minutes).{" "}
          <Link to="/reset">Enter it here</Link>.
        </p>
      ) : (
        <form noValidate onSubmit={onSubmit}>
          <ErrorBox error={error} />
          <Field label="Email" error={f.formState.errors.email}>
            <input type="email" autoComplete="email" autoFocus {...f.register("email")} />
          </Field>
          <button className="primary" disabled={f.formState.isSubmitting}>
            Send the link
          </button>
        </form>
      )}
    </AuthFrame>
  );
}

const resetSchema = z
  .object({ token: z.string().trim().min(1, "Paste the token from the email"), password, confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords differ" });

export function ResetPage() {
  const [params] = useSearchParams();
  const nav = useNavigate();
  const f = useForm<z.infer<typeof resetSchema>>({
    resolver: zodResolver(resetSchema),
    defaultValues: { token: params.get("token") ?? "" },
  });
  const { onSubmit, error } = useSubmit(f, ["token", "password"], async (v) => {
    await api("POST", "/auth/reset", { token: v.token, password: v.password });
    nav("/login", { replace: true });
  });
  return (
    <AuthFrame title="Choose a new password" foot={<Link to="/login">Back to log in</Link>}>
      <form noValidate onSubmit={onSubmit}>
        <ErrorBox error={error} />
        <Field label="Reset token" error={f.formState.errors.token} hint="From the email; valid 30 minutes, once">
          <input autoComplete="one-time-code" {...f.register("token")} />
        </Field>
        <NewPassword f={f} label="New password" />
        <button className="primary" disabled={f.formState.isSubmitting}>
          Set the password
        </button>
      </form>
    </AuthFrame>
  );
}
