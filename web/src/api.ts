// The REST client: the access token in memory only, the refresh token in the server's HttpOnly
// cookie (never readable here). An expired access token is refreshed once and the request tried
// again; refreshes are serialised across tabs (Web Locks) because the server rotates the refresh
// token on every use and takes a reused one for theft (it revokes the whole session).

export type FieldError = { field: string; message: string; code?: number };

/** A problem+json answer (RFC 7807) with the spec's numeric code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
}

export type User = {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  timezone: string;
  preferred_currency: string;
  is_active: boolean;
  is_verified: boolean;
  created_at: string;
};

type Tokens = { access_token: string; expires_in: number; user?: User };

let access: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let onSignedOut: () => void = () => {};

export function accessToken(): string | null {
  return access;
}

/** Called when the session is gone (refresh refused): the app shows the login page. */
export function onSessionEnd(fn: () => void) {
  onSignedOut = fn;
}

function keep(t: Tokens) {
  access = t.access_token;
  clearTimeout(refreshTimer);
  // Silently, a minute before expiry (or halfway for short tokens).
  const ms = Math.max(5_000, Math.min(t.expires_in * 1000 - 60_000, (t.expires_in * 1000) / 2));
  refreshTimer = setTimeout(() => void refreshSession(), ms);
}

export function forget() {
  access = null;
  clearTimeout(refreshTimer);
}

async function problem(r: Response): Promise<ApiError> {
  let body: { detail?: string; title?: string; code?: number; errors?: FieldError[] } = {};
  try {
    body = await r.json();
  } catch {
    /* not JSON: the status says enough */
  }
  return new ApiError(r.status, body.code ?? r.status, body.detail || body.title || r.statusText || "request failed", body.errors ?? []);
}

async function raw(method: string, path: string, body?: unknown, auth = true): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && access) headers.Authorization = `Bearer ${access}`;
  return fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
}

let inflight: Promise<User | null> | null = null;

/** Trades the refresh cookie for a new access token; null when there is no session. */
export function refreshSession(): Promise<User | null> {
  if (inflight) return inflight;
  const run = async () => {
    const r = await raw("POST", "/auth/refresh", undefined, false);
    if (!r.ok) {
      forget();
      return null;
    }
    const t: Tokens = await r.json();
    keep(t);
    return t.user ?? (await api<User>("GET", "/auth/me"));
  };
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  inflight = (locks ? locks.request("apextrade-refresh", run) : run()).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** A JSON request to /api/v1 + path; throws ApiError for problem answers. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let r = await raw(method, path, body);
  if (r.status === 401 && access !== null) {
    const err = await problem(r.clone());
    if (err.code === 1002 && (await refreshSession())) r = await raw(method, path, body);
  }
  if (r.status === 401 && path !== "/auth/login") {
    forget();
    onSignedOut();
  }
  if (!r.ok) throw await problem(r);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

export async function login(email: string, password: string): Promise<User> {
  const t = await api<Tokens>("POST", "/auth/login", { email, password });
  keep(t);
  return t.user ?? (await get<User>("/auth/me"));
}

export async function register(email: string, password: string, first_name?: string, last_name?: string) {
  await api<unknown>("POST", "/auth/register", { email, password, first_name, last_name });
  return login(email, password);
}

export async function logout() {
  try {
    await raw("POST", "/auth/logout", undefined, true);
  } finally {
    forget();
  }
}

/** Query string from the defined values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Every item of a paged list (pages of 100, the API's largest). */
export async function getAll<T>(path: string): Promise<T[]> {
  const sep = path.includes("?") ? "&" : "?";
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const p = await get<{ items: T[]; total: number }>(`${path}${sep}page=${page}&limit=100`);
    out.push(...p.items);
    if (!p.items.length || out.length >= p.total) return out;
  }
}

/** Whether GET path answers 200 (a HEAD request: nothing is generated or sent). */
export async function exists(path: string): Promise<boolean> {
  const r = await fetch(`/api/v1${path}`, { method: "HEAD", headers: access ? { Authorization: `Bearer ${access}` } : {}, credentials: "same-origin" });
  return r.ok;
}

/** Downloads a file the API serves behind authentication (a link cannot carry the token). */
export async function download(path: string, filename: string): Promise<void> {
  const r = await fetch(`/api/v1${path}`, { headers: access ? { Authorization: `Bearer ${access}` } : {}, credentials: "same-origin" });
  if (!r.ok) throw await problem(r);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
