// Who is signed in. On start the refresh cookie is traded for an access token (a reload keeps the
// session); until that answers, pages that need a user wait.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import * as client from "./api";
import type { User } from "./api";

type Auth = {
  user: User | null;
  ready: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string, first?: string, last?: string) => Promise<void>;
  signOut: () => Promise<void>;
  setUser: (u: User) => void;
};

const Ctx = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);
  const qc = useQueryClient();

  useEffect(() => {
    client.onSessionEnd(() => {
      setUser(null);
      qc.clear();
    });
    client
      .refreshSession()
      .then(setUser)
      .catch(() => setUser(null))
      .finally(() => setReady(true));
  }, [qc]);

  const signIn = useCallback(async (email: string, password: string) => setUser(await client.login(email, password)), []);
  const signUp = useCallback(
    async (email: string, password: string, first?: string, last?: string) =>
      setUser(await client.register(email, password, first || undefined, last || undefined)),
    [],
  );
  const signOut = useCallback(async () => {
    await client.logout().catch(() => undefined);
    setUser(null);
    qc.clear();
  }, [qc]);

  const value = useMemo(() => ({ user, ready, signIn, signUp, signOut, setUser }), [user, ready, signIn, signUp, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(Ctx);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}

/** The signed-in user (pages behind RequireAuth only). */
export function useUser(): User {
  const { user } = useAuth();
  if (!user) throw new Error("no user");
  return user;
}
